import HeraldConfig
import HeraldNet
import Logging

extension Server {
    /// The one start-up line (`herald started`): the listeners with their client-certificate
    /// policy, the HTTP API and whether it verifies signatures, the admin (metrics) address and the data
    /// directory. Called at
    /// the end of `start()`, once everything is bound.
    func startedEvent(_ config: HeraldConfig, listeners: [Listener], httpAPI: HTTPAPIListener?) -> ServerEvent {
        var fields: Logger.Metadata = [
            "client_certificates": .string(config.listeners.map(\.tls.clientAuth.rawValue).joined(separator: ",")),
        ]
        if let dataDir = config.dataDir { fields["data_dir"] = .string(dataDir) }
        if let api = httpAPI, let spec = config.http {
            fields["http_api"] = .string("\(spec.listen.host):\(api.port)")
            fields["http_api_url"] = .string(api.publicURL)
            fields["http_api_auth"] = .string(APIAccess.verifiesSignatures(config.auth) ? "SigV4 verified against the users' accessKeys" : HTTPAPIListener.anyKeyNote)
        }
        if let spec = config.admin, let port = admin.port {
            fields["admin"] = .string("http://\(ListenAddress(host: spec.listen.host, port: UInt16(clamping: port)))/metrics")
        }
        return .started(version: HeraldVersion.text, listeners: listeners.map(\.localAddress.description), fields: fields)
    }
}
