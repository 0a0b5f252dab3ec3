import Foundation
import HeraldConfig
import HeraldNet

/// The certificate of Herald's SNS signing key, as the HTTP API serves it at `SigningCertURL`:
/// the configured `signing.certificateFile`, else the one `MessageSigner.loadOrCreate` keeps in
/// `dataDir`. Read from disk on each call (the files are written once, at start, by QueueStack).
/// Without a data directory the key lives in memory only and there is nothing to serve (nil).
///
/// Contract: callable from any thread after `Server.start()`; does blocking file I/O of one small
/// file, so callers serve it off latency-critical paths.
enum SigningCertificate {
    static func pem(config: HeraldConfig) -> [UInt8]? {
        let path: String
        if let signing = config.signing {
            path = signing.certificateFile
        } else if let dataDir = config.dataDir {
            path = dataDir + "/" + MessageSigner.certificateFileName
        } else {
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty, data.count < 1_048_576 else { return nil }
        return [UInt8](data)
    }
}
