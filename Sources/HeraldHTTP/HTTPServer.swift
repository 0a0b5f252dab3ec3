// HTTPServer: Herald's HTTP/1.1 server on its own transport — a HeraldNet `Listener` (plain TCP or
// TLS) with one `HTTPServerConnection` per accepted socket. It knows nothing about what it serves:
// every request goes to the owner's handler, which answers through a responder, now or later.
//
// Contract: the handler is called on the connection's serial queue (one of the event loop group's
// queues, shared with other connections): it must not block. It may answer synchronously or from
// any thread later; each request's answer is written in request order (pipelining), and only the
// first answer to a request counts.
import Dispatch
import HeraldNet
import HeraldWire

public final class HTTPServer: Sendable {
    /// Answers requests. `respond` may be called from any thread, once; later calls are ignored.
    public typealias Handler = @Sendable (HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) -> Void
    /// The same, with a responder that can also break a response off (tests of misbehaving servers).
    public typealias ResponderHandler = @Sendable (HTTPRequest, HTTPServerResponder) -> Void

    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks an ephemeral port (read it back from `port`).
        public var port: Int
        /// Nil serves plain HTTP.
        public var tls: TLSContext?
        public var limits: HTTPLimits = .default
        /// A connection that sends nothing for this long while no answer is pending is closed.
        public var idleTimeout: Duration = .seconds(60)
        /// A request must arrive whole (head and body) within this long of its first byte, or it
        /// is answered 408 and the connection closed: a peer trickling a byte at a time does not
        /// hold a connection for ever (checked as bytes arrive; a silent peer meets `idleTimeout`).
        public var requestTimeout: Duration = .seconds(30)
        /// Requests read but not yet answered, per connection; past it the connection stops reading.
        public var maxPipelinedRequests: Int = 16
        public var maxConnections: Int = 10_000
        public var group: EventLoopGroup = .shared

        public init(host: String = "127.0.0.1", port: Int = 0, tls: TLSContext? = nil) {
            self.host = host
            self.port = port
            self.tls = tls
        }
    }

    public let configuration: Configuration
    private let listener: Listener

    /// Binds and starts serving at once.
    public convenience init(configuration: Configuration, handler: @escaping Handler) throws(NetError) {
        try self.init(configuration: configuration, responder: { request, responder in
            handler(request) { response in responder.respond(response) }
        })
    }

    public init(configuration: Configuration, responder handler: @escaping ResponderHandler) throws(NetError) {
        self.configuration = configuration
        var options = ConnectionOptions()
        options.idleTimeout = configuration.idleTimeout
        let limits = configuration.limits
        let maxPipelined = max(1, configuration.maxPipelinedRequests)
        let requestTimeout = configuration.requestTimeout
        listener = try Listener(
            host: configuration.host, port: configuration.port, tls: configuration.tls, group: configuration.group,
            options: options, maxConnections: configuration.maxConnections
        ) { _ in
            HTTPServerConnection(limits: limits, maxPipelined: maxPipelined, requestTimeout: requestTimeout, handler: handler)
        }
    }

    deinit { listener.close() }

    /// The bound port.
    public var port: Int { listener.port }
    /// Connections accepted since the start.
    public var acceptedConnections: Int { listener.acceptedConnections }
    /// Connections open now.
    public var activeConnections: Int { listener.activeConnections }

    /// Stops accepting; open connections finish what they are doing. Idempotent.
    public func close() { listener.close() }
}
