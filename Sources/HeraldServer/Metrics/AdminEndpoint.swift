import HeraldConfig
import HeraldHTTP
import HeraldNet
import HeraldWire
import Synchronization

/// The admin listener (`admin:` in the config): plain HTTP on `HTTPServer`, serving
///
/// - `GET /metrics`: the Prometheus text exposition (`Server.metricsExposition`);
/// - `GET /healthz`: 200 while the process serves requests at all;
/// - `GET /readyz`: 200 once the stream listeners and the store are open, 503 before that and
///   from the moment `stop()` begins.
///
/// Contract: `Server.start()` calls `open` first (so `/readyz` answers 503 while the rest starts)
/// and `setReady(true)` last; `Server.stop()` calls `setReady(false)` first and `close()` last.
/// Requests are answered on the HTTP connection's queue; a scrape reads counters and takes the
/// broker's registry lock once, never blocking on I/O.
public final class AdminEndpoint: Sendable {
    private let server = Mutex<HTTPServer?>(nil)
    private let ready = Atomic<Bool>(false)

    public init() {}

    /// Binds `spec.listen` and serves `metrics()` at `/metrics`. Nothing is opened for a nil spec.
    func open(_ spec: HeraldConfig.Admin?, group: EventLoopGroup, metrics: @escaping @Sendable () -> String) throws(ServerError) {
        guard let spec else { return }
        var configuration = HTTPServer.Configuration(host: spec.listen.host, port: Int(spec.listen.port))
        configuration.group = group
        configuration.maxConnections = 64
        do {
            // Weak: the endpoint owns the HTTP server.
            let http = try HTTPServer(configuration: configuration) { [weak self] request, respond in
                respond(Self.answer(request, ready: self?.isReady ?? false, metrics: metrics))
            }
            server.withLock { $0 = http }
        } catch {
            throw ServerError("admin listener \(spec.listen): \(error.message)")
        }
    }

    func setReady(_ value: Bool) { ready.store(value, ordering: .releasing) }

    /// What `/readyz` answers now.
    public var isReady: Bool { ready.load(ordering: .acquiring) }

    /// The bound port, nil when no admin listener is open.
    public var port: Int? { server.withLock { $0?.port } }

    func close() {
        let http = server.withLock { s in
            defer { s = nil }
            return s
        }
        http?.close()
    }

    /// The content type Prometheus scrapers expect for the text format.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    static func answer(_ request: HTTPRequest, ready: Bool, metrics: () -> String) -> HTTPResponse {
        guard request.method == "GET" else {
            return text(405, "only GET\n", extra: [HTTPField(name: "Allow", value: "GET")])
        }
        switch request.path {
        case "/metrics":
            return HTTPResponse(
                status: 200, headers: HTTPHeaders([HTTPField(name: "Content-Type", value: metricsContentType)]), body: Array(metrics().utf8))
        case "/healthz":
            return text(200, "ok\n")
        case "/readyz":
            return ready ? text(200, "ready\n") : text(503, "not ready: starting or stopping\n")
        default:
            return text(404, "not found: try /metrics, /healthz or /readyz\n")
        }
    }

    private static func text(_ status: Int, _ body: String, extra: [HTTPField] = []) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: HTTPHeaders([HTTPField(name: "Content-Type", value: "text/plain; charset=utf-8")] + extra), body: Array(body.utf8))
    }
}
