// HTTPConnectionPool: the idle keep-alive connections of one HTTPClient, per endpoint.
//
// Contract: any thread calls it (one Mutex). A connection is in the pool only while idle: the
// client checks one out (LIFO: the most recently used is the least likely to have been closed by
// its server) and hands it a request on its own queue; the connection checks itself back in after
// a reusable response and removes itself when it closes. At most `maxIdlePerEndpoint` wait per
// endpoint; a connection refused a place closes.
import HeraldWire
import Synchronization

/// Where a pooled connection goes: connections are shared only between identical endpoints.
struct HTTPEndpoint: Hashable, Sendable, CustomStringConvertible {
    var scheme: HTTPURL.Scheme
    var host: String
    var port: Int

    init(_ url: HTTPURL) {
        scheme = url.scheme
        host = url.host
        port = url.port
    }

    var description: String { "\(scheme.rawValue)://\(host):\(port)" }
}

final class HTTPConnectionPool: Sendable {
    private struct State {
        var idle: [HTTPEndpoint: [HTTPClientConnection]] = [:]
        var shutDown = false
    }

    let maxIdlePerEndpoint: Int
    let idleTimeout: Duration
    private let state = Mutex(State())

    init(maxIdlePerEndpoint: Int, idleTimeout: Duration) {
        self.maxIdlePerEndpoint = max(0, maxIdlePerEndpoint)
        self.idleTimeout = idleTimeout
    }

    /// The most recently parked idle connection to `endpoint`, removed from the pool.
    func checkOut(_ endpoint: HTTPEndpoint) -> HTTPClientConnection? {
        state.withLock { state in
            guard !state.shutDown else { return nil }
            return state.idle[endpoint]?.popLast()
        }
    }

    /// Parks an idle connection; false (the caller closes it) when the endpoint's idle list is full
    /// or the pool is shut down.
    func checkIn(_ connection: HTTPClientConnection) -> Bool {
        state.withLock { state in
            guard !state.shutDown, state.idle[connection.endpoint, default: []].count < maxIdlePerEndpoint else { return false }
            state.idle[connection.endpoint, default: []].append(connection)
            return true
        }
    }

    func remove(_ connection: HTTPClientConnection) {
        state.withLock { state in
            state.idle[connection.endpoint]?.removeAll { $0 === connection }
            if state.idle[connection.endpoint]?.isEmpty == true { state.idle[connection.endpoint] = nil }
        }
    }

    func idleCount(_ endpoint: HTTPEndpoint) -> Int {
        state.withLock { $0.idle[endpoint]?.count ?? 0 }
    }

    var isShutDown: Bool { state.withLock { $0.shutDown } }

    /// Refuses new check-ins and returns every idle connection (the caller closes them).
    func shutDown() -> [HTTPClientConnection] {
        state.withLock { state in
            state.shutDown = true
            let all = state.idle.values.flatMap { $0 }
            state.idle = [:]
            return all
        }
    }
}
