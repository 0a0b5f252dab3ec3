// HTTPClient: sends HTTP/1.1 requests over HeraldNet connections (plain or TLS), reusing idle
// keep-alive connections per (scheme, host, port). Never a thread per request: each connection
// lives on an event loop queue; completions run on `configuration.callbackQueue`.
//
// Contract: `send` may be called from any thread. Exactly one completion per call. Redirects are not
// followed (a 3xx is a response); any status is a response, not an error. TLS verifies the
// certificate chain (system trust store, or `caFile`) and the URL's host name (or IP address); SNI
// carries the host name.
import Dispatch
import HeraldNet
import HeraldWire
import Synchronization

public final class HTTPClient: Sendable {
    /// Whether a request that met a pooled connection closed by its server before any response
    /// byte is sent again, once, on a new connection. The server may have received it (and closed
    /// without answering), so a non-idempotent request could then be processed twice.
    public enum StaleConnectionRetry: Sendable, Hashable {
        case never
        /// GET, HEAD, OPTIONS, TRACE, PUT, DELETE (RFC 9110 §9.2.2).
        case idempotentOnly
        /// Every method: for at-least-once deliveries whose receivers deduplicate.
        case always
    }

    public struct Configuration: Sendable {
        /// The TLS context for https URLs; nil builds a verifying one from `caFile`.
        public var tls: TLSContext?
        /// CA certificates to trust (PEM); nil uses the system trust store.
        public var caFile: String?
        /// With `caFile`: trust the system store as well (`caFile` adds CAs instead of replacing them).
        public var trustSystemStoreToo = false
        /// Bounds on the responses the client reads (a larger one is `responseTooLarge`).
        public var limits: HTTPLimits = .default
        /// TCP connect plus TLS handshake must finish within this.
        public var connectTimeout: Duration = .seconds(10)
        /// Idle keep-alive connections kept per endpoint.
        public var maxIdleConnectionsPerEndpoint: Int = 8
        /// An idle pooled connection is closed after this long.
        public var idleConnectionTimeout: Duration = .seconds(30)
        /// Where completions run.
        public var callbackQueue: DispatchQueue
        public var group: EventLoopGroup = .shared
        /// Host name → address to connect to instead of resolving it (TLS still checks the name):
        /// curl's `--resolve`, for tests and split-horizon setups.
        public var addressOverrides: [String: String] = [:]
        public var staleConnectionRetry: StaleConnectionRetry = .idempotentOnly

        public init(callbackQueue: DispatchQueue = DispatchQueue(label: "herald.http.client")) {
            self.callbackQueue = callbackQueue
        }
    }

    public let configuration: Configuration
    private let tls: TLSContext
    private let pool: HTTPConnectionPool
    private let opened = Atomic<Int>(0)

    /// Throws when the CA file cannot be loaded.
    public init(configuration: Configuration = Configuration()) throws(NetError) {
        self.configuration = configuration
        if let given = configuration.tls {
            tls = given
        } else {
            tls = try TLSContext.client(caFile: configuration.caFile, alsoSystemTrustStore: configuration.trustSystemStoreToo)
        }
        pool = HTTPConnectionPool(maxIdlePerEndpoint: configuration.maxIdleConnectionsPerEndpoint,
                                  idleTimeout: configuration.idleConnectionTimeout)
    }

    deinit { shutDown() }

    /// Sends `request` to `url`: the URL gives the request-target, the `Host` header (unless the
    /// request has one) and Basic credentials from its user information (unless the request has an
    /// `Authorization`). `timeout` bounds the wait for the complete response once connected.
    /// `callbackQueue`: where this completion runs (default: the configuration's), so a caller
    /// confined to its own queue gets it there without a second hop.
    public func send(
        _ request: HTTPRequest, to url: HTTPURL, timeout: Duration, callbackQueue: DispatchQueue? = nil,
        completion: @escaping @Sendable (Result<HTTPResponse, HTTPClientError>) -> Void
    ) {
        let queue = callbackQueue ?? configuration.callbackQueue
        let deliver: @Sendable (Result<HTTPResponse, HTTPClientError>) -> Void = { result in
            queue.async { completion(result) }
        }
        var request = request
        request.target = url.requestTarget
        request.version = .http11
        if !request.headers.contains("Host") { request.headers.append("Host", url.hostHeader) }
        if let authorization = url.basicAuthorization, !request.headers.contains("Authorization") {
            request.headers.append("Authorization", authorization)
        }
        let bytes: [UInt8]
        do {
            bytes = try request.encode()
        } catch {
            return deliver(.failure(HTTPClientError(.invalidRequest, error.message)))
        }
        let retriable: Bool
        switch configuration.staleConnectionRetry {
        case .never: retriable = false
        case .idempotentOnly: retriable = ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].contains(request.method)
        case .always: retriable = true
        }
        let exchange = HTTPExchange(method: request.method, bytes: bytes, keepAlive: request.keepAlive,
                                    timeout: timeout, retriable: retriable, completion: deliver)
        dispatch(exchange, to: HTTPEndpoint(url))
    }

    /// Async form of `send`.
    public func send(_ request: HTTPRequest, to url: HTTPURL, timeout: Duration) async -> Result<HTTPResponse, HTTPClientError> {
        await withCheckedContinuation { continuation in
            send(request, to: url, timeout: timeout) { continuation.resume(returning: $0) }
        }
    }

    /// Connections opened since the start (reuse shows as fewer connections than requests).
    public var connectionsOpened: Int { opened.load(ordering: .relaxed) }

    /// Idle pooled connections to `url`'s endpoint.
    public func idleConnections(to url: HTTPURL) -> Int { pool.idleCount(HTTPEndpoint(url)) }

    /// Closes idle connections and refuses new requests; exchanges in flight finish. Idempotent.
    public func shutDown() {
        for idle in pool.shutDown() {
            guard let connection = idle.connection else { continue }
            connection.execute { connection.close() }
        }
    }

    private func dispatch(_ exchange: HTTPExchange, to endpoint: HTTPEndpoint) {
        if let pooled = pool.checkOut(endpoint), let connection = pooled.connection {
            connection.execute { [self] in
                if !pooled.start(exchange) { connect(exchange, to: endpoint) }
            }
            return
        }
        connect(exchange, to: endpoint)
    }

    private func connect(_ exchange: HTTPExchange, to endpoint: HTTPEndpoint) {
        guard !pool.isShutDown else {
            return exchange.completion(.failure(HTTPClientError(.shutDown, "the HTTP client is shut down")))
        }
        var options = ConnectionOptions()
        options.handshakeTimeout = configuration.connectTimeout
        let handler = HTTPClientConnection(
            endpoint: endpoint, limits: configuration.limits, pool: pool, first: exchange
        ) { [weak self] exchange in
            guard let self else {
                return exchange.completion(.failure(HTTPClientError(.shutDown, "the HTTP client is gone")))
            }
            self.connect(exchange, to: endpoint)
        }
        do {
            try Connection.connect(
                host: configuration.addressOverrides[endpoint.host] ?? endpoint.host, port: endpoint.port,
                tls: endpoint.scheme == .https ? tls : nil, serverName: endpoint.host,
                group: configuration.group, options: options
            ) { connection in
                handler.attach(connection)
                return handler
            }
            opened.add(1, ordering: .relaxed)
        } catch {
            exchange.completion(.failure(HTTPClientError(.connectFailed, "\(endpoint): \(error.message)")))
        }
    }
}
