import Synchronization

/// Counters the server keeps beside the broker's.
public final class ServerCounters: Sendable {
    let connectionsOpened = Atomic<Int>(0)
    let protocolErrors = Atomic<Int>(0)
    let authenticationFailures = Atomic<Int>(0)
    let outputLimitDisconnects = Atomic<Int>(0)
    let heartbeatTimeouts = Atomic<Int>(0)
    /// Every closed connection, counted once under why it ended (`DisconnectCause`).
    let disconnects = Mutex<[DisconnectCause: Int]>([:])
    /// Reloads and handshake failures by reason (swift-metrics; Metrics/ServerEventMetrics.swift).
    public let events = ServerEventMetrics()

    public init() {}

    func countDisconnect(_ cause: DisconnectCause) {
        disconnects.withLock { $0[cause, default: 0] += 1 }
    }

    public struct Snapshot: Sendable, Hashable {
        public var connectionsOpened: Int
        public var protocolErrors: Int
        public var authenticationFailures: Int
        /// Subscribers cut off because they did not read and their output buffer hit its hard limit.
        public var outputLimitDisconnects: Int
        public var heartbeatTimeouts: Int
        /// Closed connections by cause.
        public var disconnects: [DisconnectCause: Int]
    }

    public var snapshot: Snapshot {
        Snapshot(
            connectionsOpened: connectionsOpened.load(ordering: .relaxed),
            protocolErrors: protocolErrors.load(ordering: .relaxed),
            authenticationFailures: authenticationFailures.load(ordering: .relaxed),
            outputLimitDisconnects: outputLimitDisconnects.load(ordering: .relaxed),
            heartbeatTimeouts: heartbeatTimeouts.load(ordering: .relaxed),
            disconnects: disconnects.withLock { $0 })
    }
}

/// Why a stream connection ended, as counted in `ServerCounters.Snapshot.disconnects`.
public enum DisconnectCause: String, Sendable, Hashable, CaseIterable {
    /// The client closed (or reset) the connection.
    case clientClosed
    /// A subscription's pending queue passed its bound (`ERR SlowConsumer`).
    case slowConsumer
    /// The client did not read and the outbound buffer hit its hard limit (`ERR SlowConsumer`).
    case outputLimit
    /// Another connection of the same identity resumed the session (`ERR SessionTakenOver`).
    case sessionTakenOver
    /// CONNECT was refused: credentials, session ownership, protocol version.
    case connectRefused
    /// A fatal protocol error (`ERR ProtocolError`, `FrameTooLarge`, …).
    case protocolError
    /// No CONNECT in time, or no traffic and no PONG within two heartbeats.
    case timeout
    /// TLS handshake failed or timed out.
    case handshakeFailed
    /// A socket or TLS error.
    case ioError
    /// The server closed it (shutdown, or its own decision).
    case closedByServer
}
