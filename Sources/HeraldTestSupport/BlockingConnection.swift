// BlockingConnection: a synchronous client wrapper around Connection for tests (it ships in no
// product: the CLI's benchmarks drive `Connection` with handlers). Calls block the calling thread
// (never call it from an event loop queue); the connection itself still runs on its loop. Received bytes are buffered up to `inboxLimit`, above which reading the
// peer pauses until `read` drains them (and while the owner paused reading); `write` blocks while
// the outbound buffer is above its high-water mark.
import Dispatch
import HeraldNet
import Synchronization

public final class BlockingConnection: Sendable {
    private let connection: Connection
    private let box: Box

    /// Inbound bytes buffered before reading from the peer pauses.
    public static let inboxLimit = 4 << 20

    final class Box: ConnectionHandler, @unchecked Sendable {
        struct State {
            var opened = false
            var inbox: [UInt8] = []
            var inboxStart = 0
            var closed: CloseReason?
            /// Reading paused because the inbox is full.
            var paused = false
            /// Reading paused by `pauseReading()`.
            var pausedByOwner = false
            var writable = true
            var peer: PeerCertificate?
            var tlsVersion: String?
        }
        let state = Mutex(State())
        let signal = DispatchSemaphore(value: 0)

        func connectionDidOpen(_ connection: Connection) {
            let peer = connection.peerCertificate
            let version = connection.tlsVersion
            state.withLock {
                $0.opened = true
                $0.peer = peer
                $0.tlsVersion = version
            }
            signal.signal()
        }

        func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
            state.withLock { $0.inbox.append(contentsOf: bytes) }
        }

        func connectionDidFinishReadBatch(_ connection: Connection) {
            let full = state.withLock { state -> Bool in
                let full = state.inbox.count - state.inboxStart > BlockingConnection.inboxLimit
                if full { state.paused = true }
                return full
            }
            if full { connection.pauseReading() }
            signal.signal()
        }

        func connectionDidBecomeWritable(_ connection: Connection) {
            state.withLock { $0.writable = true }
            signal.signal()
        }

        func connectionDidClose(_ connection: Connection, reason: CloseReason) {
            state.withLock { $0.closed = reason }
            signal.signal()
        }
    }

    private init(connection: Connection, box: Box) {
        self.connection = connection
        self.box = box
    }

    /// Connects and completes the TLS handshake (or throws with the close reason's text).
    public static func connect(
        host: String, port: Int, tls: TLSContext?, serverName: String? = nil,
        timeout: Duration = .seconds(10), group: EventLoopGroup = .shared,
        options: ConnectionOptions = ConnectionOptions()
    ) throws(NetError) -> BlockingConnection {
        var options = options
        options.handshakeTimeout = timeout
        let box = Box()
        let connection = try Connection.connect(host: host, port: port, tls: tls, serverName: serverName,
                                                group: group, options: options) { _ in box }
        let blocking = BlockingConnection(connection: connection, box: box)
        while true {
            let (opened, closed) = box.state.withLock { ($0.opened, $0.closed) }
            if opened { return blocking }
            if let closed {
                switch closed {
                case .handshakeTimeout: throw NetError(.timeout, "\(host):\(port): \(closed)")
                default: throw NetError(.socket, "\(host):\(port): \(closed)")
                }
            }
            box.signal.wait()
        }
    }

    public var peerCertificate: PeerCertificate? { box.state.withLock { $0.peer } }
    public var tlsVersion: String? { box.state.withLock { $0.tlsVersion } }
    /// The close reason once the connection is closed.
    public var closeReason: CloseReason? { box.state.withLock { $0.closed } }

    /// Queues `bytes` and flushes; blocks while the outbound buffer is above its high-water mark.
    public func write(_ bytes: [UInt8]) throws(NetError) {
        let box = self.box
        let connection = self.connection
        let accepted = Mutex<Bool?>(nil)
        connection.execute {
            let ok = connection.write(bytes)
            connection.flush()
            let writable = connection.isWritable
            box.state.withLock { $0.writable = writable }
            accepted.withLock { $0 = ok }
            box.signal.signal()
        }
        while true {
            let (closed, writable) = box.state.withLock { ($0.closed, $0.writable) }
            if let result = accepted.withLock({ $0 }) {
                if !result { throw NetError(.closed, "write refused: \(closed.map { "\($0)" } ?? "output limit")") }
                if writable { return }
            }
            if let closed { throw NetError(.closed, "\(closed)") }
            box.signal.wait()
        }
    }

    /// Up to `maxBytes` received bytes; waits up to `timeout` for at least one. Returns [] once
    /// the connection is closed and everything was read; throws `.timeout` when nothing arrived.
    public func read(maxBytes: Int = 64 << 10, timeout: Duration = .seconds(10)) throws(NetError) -> [UInt8] {
        let deadline = DispatchTime.now() + timeout.dispatchInterval
        while true {
            let (chunk, closed, resume) = box.state.withLock { state -> ([UInt8], CloseReason?, Bool) in
                let available = state.inbox.count - state.inboxStart
                guard available > 0 else { return ([], state.closed, false) }
                let n = min(available, max(1, maxBytes))
                let chunk = Array(state.inbox[state.inboxStart..<state.inboxStart + n])
                state.inboxStart += n
                if state.inboxStart == state.inbox.count {
                    state.inbox.removeAll(keepingCapacity: true)
                    state.inboxStart = 0
                }
                let resume = state.paused && state.inbox.count - state.inboxStart <= BlockingConnection.inboxLimit / 2
                if resume { state.paused = false }
                return (chunk, state.closed, resume && !state.pausedByOwner)
            }
            if resume {
                let connection = self.connection
                connection.execute { connection.resumeReading() }
            }
            if !chunk.isEmpty { return chunk }
            if closed != nil { return [] }
            if box.signal.wait(timeout: deadline) == .timedOut {
                throw NetError(.timeout, "no data within \(timeout)")
            }
        }
    }

    /// Stops reading from the peer until `resumeReading()`; bytes already received stay readable.
    /// The peer's output then backs up (tests play a client that stops reading with it).
    public func pauseReading() {
        box.state.withLock { $0.pausedByOwner = true }
        let connection = self.connection
        connection.execute { connection.pauseReading() }
    }

    public func resumeReading() {
        let inboxFull = box.state.withLock { state -> Bool in
            state.pausedByOwner = false
            return state.paused
        }
        guard !inboxFull else { return }  // `read` resumes once the inbox drained
        let connection = self.connection
        connection.execute { connection.resumeReading() }
    }

    /// Sends what is pending, closes, and waits (up to `timeout`) until the close completed.
    public func close(timeout: Duration = .seconds(5)) {
        let connection = self.connection
        connection.execute { connection.closeWhenFlushed(.closedByOwner, timeout: timeout) }
        let deadline = DispatchTime.now() + timeout.dispatchInterval + .milliseconds(500)
        while box.state.withLock({ $0.closed }) == nil {
            if box.signal.wait(timeout: deadline) == .timedOut { return }
        }
    }

    deinit {
        let connection = self.connection
        connection.execute { connection.close() }
    }
}

extension Duration {
    fileprivate var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return .nanoseconds(0) }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .nanoseconds(Int.max / 2) }
        return .nanoseconds(Int(whole) &+ Int(attoseconds / 1_000_000_000))
    }
}
