/// Limits that bound what clients can make the broker hold. Fixed for a broker's lifetime.
public struct BrokerLimits: Sendable, Hashable {
    /// Topics in total (config-declared plus auto-created).
    public var maxTopics: Int = 100_000
    /// Stream subscriptions per session, detached ones included.
    public var maxSubscriptionsPerSession: Int = 10_000
    /// Subscriptions per topic, of every kind.
    public var maxSubscriptionsPerTopic: Int = 100_000
    /// Subscriptions of every kind on all topics together.
    public var maxSubscriptions: Int = 1_000_000
    /// Messages waiting for credit in one stream subscription. One more fires the slow-consumer
    /// policy (or, for a detached subscription, drops it).
    public var maxPendingMessages: Int = 10_000
    /// Bytes (body + attributes, counted as SNS counts them) waiting in one stream subscription.
    public var maxPendingBytes: Int = 64 << 20
    /// Ack mode: credit plus unacked deliveries of one subscription never exceed this, whatever
    /// credit the client grants (bounds in-flight memory).
    public var maxInFlight: Int = 10_000
    /// Auto-ack mode: the most credit a subscription can hold.
    public var maxCredit: Int = 1_000_000
    /// How long a detached ack-mode subscription keeps its messages for a reconnect, in nanoseconds.
    public var resumeWindowNanoseconds: UInt64 = 60_000_000_000
    /// Longest accepted session id and subscription name, in UTF-8 bytes.
    public var maxIdentifierBytes: Int = 256

    public init() {}
}

/// Broker-wide behaviour fixed at start.
public struct BrokerOptions: Sendable, Hashable {
    /// Create a topic on first publish or subscribe instead of answering `NotFound`.
    public var autoCreateTopics: Bool = false
    public var limits: BrokerLimits = BrokerLimits()

    public init(autoCreateTopics: Bool = false, limits: BrokerLimits = BrokerLimits()) {
        self.autoCreateTopics = autoCreateTopics
        self.limits = limits
    }
}
