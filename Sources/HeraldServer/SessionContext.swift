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

    /// The journal-backed queue that keeps the subscription's messages (`DurableSubscriptionPump`).
    /// The `/` keeps it apart from every queue a user can name.
    public var queueName: String { Self.queueName(name) }
    public static func queueName(_ subscription: String) -> String { "subscription/\(subscription)" }

    public init(name: String, topic: String, policy: FilterPolicy?) {
        self.name = name
        self.topic = topic
        self.policy = policy
    }
}

/// The shared, swappable part of the server every session reads.
final class SessionContext: Sendable {
    let broker: Broker
    let counters: ServerCounters
    /// The operator log: sessions report connection events here (Logging/ServerEventLog.swift).
    let events: ServerEventLog
    private let current: Mutex<SessionSettings>
    /// Bumped on every reload so sessions re-read settings only when they changed (no lock per frame).
    let generation = Atomic<UInt64>(0)
    /// The queue actions (set once the store is open, at start).
    let queues = Mutex<QueueAPI?>(nil)

    init(broker: Broker, settings: SessionSettings, counters: ServerCounters, events: ServerEventLog = .disabled) {
        self.broker = broker
        self.counters = counters
        self.events = events
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
