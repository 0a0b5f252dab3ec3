// Where the repository and its development certificates are, from this file's location
// (Sources/HeraldTestSupport/…), and TLS contexts made from those certificates.
import Foundation
import HeraldNet

/// Paths into the repository checkout the tests run from.
public enum TestPaths {
    /// The repository root.
    public static let repository: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    /// certs/: the development CA, server and client certificates (`make certs`).
    public static let certs = repository + "/certs"
    public static let ca = certs + "/dev-ca.pem"
    public static let serverCert = certs + "/dev-server.pem"
    public static let serverKey = certs + "/dev-server-key.pem"
    public static let clientCert = certs + "/dev-client.pem"
    public static let clientKey = certs + "/dev-client-key.pem"
}

/// TLS contexts from the development certificates.
public enum TestTLS {
    /// A server context with the dev server certificate; `clientCA` verifies client certificates.
    public static func server(clientCA: String? = nil, policy: TLSContext.ClientCertificatePolicy = .none) throws -> TLSContext {
        try TLSContext.server(certificateChainFile: TestPaths.serverCert, privateKeyFile: TestPaths.serverKey,
                              clientCAFile: clientCA, clientCertificates: policy)
    }

    /// A client context trusting `ca` (default: the dev CA), optionally presenting the dev client
    /// certificate.
    public static func client(withCertificate: Bool = false, ca: String? = nil) throws -> TLSContext {
        try TLSContext.client(caFile: ca ?? TestPaths.ca,
                              certificateChainFile: withCertificate ? TestPaths.clientCert : nil,
                              privateKeyFile: withCertificate ? TestPaths.clientKey : nil)
    }
}
