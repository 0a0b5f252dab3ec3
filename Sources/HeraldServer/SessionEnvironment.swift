import Dispatch
import FilterPolicy
import HeraldBroker
import HeraldCore
import HeraldWire
import Synchronization

/// What every session of a server shares: the broker, who may do what, and the limits in force.
/// Swapped as a whole on reload (sessions read it per frame, so new limits and permissions apply
/// to the next frame).
public struct SessionSettings: Sendable {
    public var authenticator: any Authenticator
    public var messageValidator: MessageValidator
    public var wireLimits: WireLimits
    public var filterLimits: FilterPolicyLimits
    public var heartbeat: Duration
    /// A connection must send CONNECT within this long after the TLS handshake.
    public var connectTimeout: Duration
    public var serverName: String
    /// Named subscriptions a client may attach to with `SUB … name=<subscription>`: their topic and policy.
    public var namedSubscriptions: [String: NamedSubscription]

    public init(
        authenticator: any Authenticator, messageValidator: MessageValidator = MessageValidator(),
        wireLimits: WireLimits = .default, filterLimits: FilterPolicyLimits = .sns,
        heartbeat: Duration = .seconds(30), connectTimeout: Duration = .seconds(10), serverName: String = "herald",
        namedSubscriptions: [String: NamedSubscription] = [:]
    ) {
        self.authenticator = authenticator
        self.messageValidator = messageValidator
        self.wireLimits = wireLimits
        self.filterLimits = filterLimits
        self.heartbeat = heartbeat
        self.connectTimeout = connectTimeout
        self.serverName = serverName
        self.namedSubscriptions = namedSubscriptions
    }
}

/// A subscription declared in the configuration: streaming clients attach to it by name and get
/// the configured filter policy, which a reload may change.
public struct NamedSubscription: Sendable, Hashable {
    public var name: String
    public var topic: String
    public var policy: FilterPolicy?

    public init(name: String, topic: String, policy: FilterPolicy?) {
        self.name = name
        self.topic = topic
        self.policy = policy
    }
}

/// Counters the server keeps beside the broker's.
public final class ServerCounters: Sendable {
    let connectionsOpened = Atomic<Int>(0)
    let protocolErrors = Atomic<Int>(0)
    let authenticationFailures = Atomic<Int>(0)
    let outputLimitDisconnects = Atomic<Int>(0)
    let heartbeatTimeouts = Atomic<Int>(0)
    /// Every closed connection, counted once under why it ended (`DisconnectCause`).
    let disconnects = Mutex<[DisconnectCause: Int]>([:])

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

/// The shared, swappable part of the server every session reads.
final class SessionContext: Sendable {
    let broker: Broker
    let counters: ServerCounters
    private let current: Mutex<SessionSettings>
    /// Bumped on every reload so sessions re-read settings only when they changed (no lock per frame).
    let generation = Atomic<UInt64>(0)

    init(broker: Broker, settings: SessionSettings, counters: ServerCounters) {
        self.broker = broker
        self.counters = counters
        self.current = Mutex(settings)
    }

    var settings: SessionSettings { current.withLock { $0 } }

    func replaceSettings(_ settings: SessionSettings) {
        current.withLock { $0 = settings }
        generation.add(1, ordering: .releasing)
    }

    /// Monotonic nanoseconds, the broker's notion of `now`.
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
