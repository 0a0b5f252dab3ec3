import HeraldConfig
import HeraldHTTP
import HeraldNet

/// The running AWS-compatible API listener (`http:` in the config): an `HTTPServer` whose every
/// request goes to `SQSJSONHandler`. Opened by `Server.start()` after the stream listeners, closed
/// by `Server.stop()`.
///
/// Contract: `open` runs once, on the thread that starts the server (it binds and loads TLS
/// files); `port`, `publicURL` and `close` may be called from any thread.
final class HTTPAPIListener: Sendable {
    private let server: HTTPServer
    /// Base of queue URLs and of `SigningCertURL` for this listener (port 0 resolved).
    let publicURL: String

    /// The note logged at start while SigV4 is not verified.
    static let anyKeyNote = "the HTTP API accepts any access key (no users with accessKeys)"

    private init(server: HTTPServer, publicURL: String) {
        self.server = server
        self.publicURL = publicURL
    }

    static func open(_ spec: HeraldConfig.HTTPAPI, handler: SQSJSONHandler, group: EventLoopGroup) throws(ServerError) -> HTTPAPIListener {
        var configuration = HTTPServer.Configuration(host: spec.listen.host, port: Int(spec.listen.port))
        configuration.group = group
        // ReceiveMessage long-polls up to 20 s: no idle cut below that (spec/aws-api.md §0.9).
        configuration.idleTimeout = .seconds(60)
        if let tls = spec.tls {
            do {
                configuration.tls = try TLSContext.server(certificateChainFile: tls.certificateFile, privateKeyFile: tls.privateKeyFile)
            } catch {
                throw ServerError("http listener \(spec.listen): \(error.message)")
            }
        }
        let server: HTTPServer
        do {
            server = try HTTPServer(configuration: configuration) { request, respond in handler.handle(request, respond: respond) }
        } catch {
            throw ServerError("http listener \(spec.listen): \(error.message)")
        }
        return HTTPAPIListener(server: server, publicURL: spec.effectivePublicURL(boundPort: server.port))
    }

    var port: Int { server.port }

    func close() { server.close() }
}
