// HTTPClientConnection: the ConnectionHandler of one outbound HTTP connection. It carries one
// exchange at a time (no pipelining: a failed exchange never takes others with it), and goes back
// to the pool between exchanges when both sides keep the connection alive.
//
// Contract: every method runs on the connection's queue (ConnectionHandler callbacks; `start` via
// `connection.execute` from the client); hence `@unchecked Sendable`. `endpoint` is immutable and
// read by the pool from any thread. Each exchange's completion is called exactly once, here: with
// the response, or with the timeout, the close or the decode error that ended it.
import Dispatch
import HeraldNet
import HeraldWire

/// One request in flight, encoded, with its completion.
struct HTTPExchange: Sendable {
    var method: String
    var bytes: [UInt8]
    var keepAlive: Bool
    var timeout: Duration
    /// May be sent again on a fresh connection when a pooled one turns out closed (see `HTTPClient.StaleConnectionRetry`).
    var retriable: Bool
    var completion: @Sendable (Result<HTTPResponse, HTTPClientError>) -> Void
}

final class HTTPClientConnection: ConnectionHandler, @unchecked Sendable {
    let endpoint: HTTPEndpoint
    private let pool: HTTPConnectionPool
    /// Sends an exchange again on a new connection (the client's connect).
    private let retry: @Sendable (HTTPExchange) -> Void
    private var decoder: HTTPResponseDecoder
    /// Set in `attach` (on the queue, before `start`), before the pool can see this object.
    private(set) var connection: Connection?
    private var current: HTTPExchange?
    /// When the current exchange times out (uptime nanoseconds). Checked by the connection's idle
    /// timer, which is armed once per connection and re-armed lazily (no timer work per request):
    /// a response that does not come is reported between `timeout` and twice `timeout` after the
    /// request; a busy connection's bytes push the check back.
    private var deadline: UInt64 = 0
    private var opened = false
    private var closed = false
    /// The current exchange runs on a connection that served an earlier one.
    private var currentReused = false
    /// Any byte of the current exchange's response arrived.
    private var currentAnswered = false

    init(endpoint: HTTPEndpoint, limits: HTTPLimits, pool: HTTPConnectionPool, first: HTTPExchange,
         retry: @escaping @Sendable (HTTPExchange) -> Void) {
        self.endpoint = endpoint
        self.pool = pool
        self.retry = retry
        self.decoder = HTTPResponseDecoder(limits: limits)
        self.current = first
    }

    func attach(_ connection: Connection) { self.connection = connection }

    /// Takes `exchange` on a pooled connection; false (the caller connects anew) when the connection
    /// closed meanwhile.
    func start(_ exchange: HTTPExchange) -> Bool {
        guard let connection, !closed, opened, connection.isOpen, current == nil else { return false }
        current = exchange
        currentReused = true
        send(exchange, on: connection)
        return true
    }

    private func send(_ exchange: HTTPExchange, on connection: Connection) {
        currentAnswered = false
        deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(exchange.timeout.nanosecondsClamped)
        // One check period for the response timeout and the pool's idle limit; set only when it changes.
        let period = min(exchange.timeout, pool.idleTimeout)
        if connection.idleTimeout != period { connection.idleTimeout = period }
        decoder.expectResponse(to: exchange.method)
        connection.write(exchange.bytes)
        connection.flush()
    }

    private func finish(_ result: Result<HTTPResponse, HTTPClientError>) {
        guard let exchange = current else { return }
        current = nil
        exchange.completion(result)
    }

    // MARK: - ConnectionHandler

    func connectionDidOpen(_ connection: Connection) {
        opened = true
        if let current { send(current, on: connection) }
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        guard let exchange = current else {
            // Bytes nobody asked for: the stream is out of step, never reuse it.
            connection.close(.protocolError("unsolicited bytes from \(endpoint)"))
            return
        }
        currentAnswered = true
        decoder.append(bytes)
        let response: HTTPResponse
        do {
            guard let next = try decoder.next() else { return }
            response = next
        } catch {
            finish(.failure(Self.clientError(error, endpoint: endpoint)))
            connection.close(.protocolError(error.message))
            return
        }
        // Back in the pool before the completion runs: a caller sending its next request from the
        // completion finds this connection.
        current = nil
        let reusable = exchange.keepAlive && response.keepAlive && decoder.bufferedByteCount == 0
        if !(reusable && pool.checkIn(self)) { connection.close() }
        exchange.completion(.success(response))
    }

    func connectionDidBecomeIdle(_ connection: Connection, idleFor: Duration) {
        if let exchange = current {
            guard DispatchTime.now().uptimeNanoseconds >= deadline else { return }  // checked again a period later
            finish(.failure(HTTPClientError(.timeout, "no complete response from \(endpoint) within \(exchange.timeout)")))
            connection.close(.closedByOwner)
            return
        }
        guard idleFor >= pool.idleTimeout else { return }  // idle in the pool, not for long enough yet
        pool.remove(self)
        connection.close(.idleTimeout)
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        closed = true
        pool.remove(self)
        guard var exchange = current else { return }
        if opened && currentReused && !currentAnswered && exchange.retriable {
            // The server closed the idle connection as we reused it (a race every keep-alive client
            // has): the request most likely never reached it. Once, on a new connection.
            current = nil
            exchange.retriable = false
            retry(exchange)
            return
        }
        guard opened else {
            finish(.failure(Self.openError(reason, endpoint: endpoint)))
            return
        }
        do {
            if let response = try decoder.finish() {
                finish(.success(response))  // a body that ran to the close
            } else {
                finish(.failure(HTTPClientError(.connectionClosed, "\(endpoint) closed the connection before responding (\(reason))")))
            }
        } catch {
            finish(.failure(HTTPClientError(.connectionClosed, "\(endpoint) closed the connection mid-response (\(reason))")))
        }
    }

    static func openError(_ reason: CloseReason, endpoint: HTTPEndpoint) -> HTTPClientError {
        switch reason {
        case .handshakeFailed, .handshakeTimeout:
            return HTTPClientError(.tlsHandshakeFailed, "\(endpoint): \(reason)")
        default:
            return HTTPClientError(.connectFailed, "\(endpoint): \(reason)")
        }
    }

    static func clientError(_ error: HTTPError, endpoint: HTTPEndpoint) -> HTTPClientError {
        switch error.code {
        case .bodyTooLarge, .headersTooLarge, .tooManyHeaders, .lineTooLong:
            return HTTPClientError(.responseTooLarge, "response from \(endpoint) exceeds the client's limits: \(error.message)")
        default:
            return HTTPClientError(.invalidResponse, "invalid response from \(endpoint): \(error.message)")
        }
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to `Int64` (a timeout of years stays a valid deadline).
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow || seconds < 0 { return seconds < 0 ? 0 : Int64.max }
        let (total, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? Int64.max : total
    }
}
