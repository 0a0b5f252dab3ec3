import FilterPolicy
import HeraldCore

/// A push target owned by another subsystem (durable queue, HTTP pusher, test probe). It gets the
/// messages a publish batch matched in ONE call, on the publisher's thread; it must not block and
/// must not call back into the broker synchronously. The broker applies no flow control to it.
/// Its receipt decides when those messages' publishers are confirmed (see DeliveryTarget.swift).
public protocol MessageEndpoint: AnyObject, Sendable {
    func deliver(_ messages: [Message]) -> DeliveryReceipt
}

/// Where a configuration-declared subscription sends its messages. Stream subscriptions are made
/// at run time through a session (`Broker.subscribe`) and are not listed here. Planned cases:
/// `.http(…)` (SNS HTTP/S delivery).
public enum SubscriptionTarget: Sendable {
    case endpoint(any MessageEndpoint)
    /// A durable queue of `QueueManager` (SNS protocol `sqs`).
    case queue(QueueSubscriptionRoute, QueueManager)
}

/// One subscription declared in the configuration file. `name` identifies it across reloads: a
/// reload that keeps the name keeps the subscription (new policy and target apply to the next
/// message), a name that disappears is removed.
public struct ConfiguredSubscription: Sendable {
    public var name: String
    public var policy: FilterPolicy?
    public var target: SubscriptionTarget

    public init(name: String, policy: FilterPolicy?, target: SubscriptionTarget) {
        self.name = name
        self.policy = policy
        self.target = target
    }
}

/// A topic declared in the configuration file, with its declared subscriptions.
public struct TopicConfiguration: Sendable {
    public var name: String
    public var subscriptions: [ConfiguredSubscription]
    /// How publishes are deduplicated. A FIFO topic always deduplicates: nil there means SNS's
    /// defaults (`.fifo(contentBasedDeduplication: false)`). On a standard topic, nil means none.
    public var deduplication: TopicDeduplicationPolicy?

    public init(name: String, subscriptions: [ConfiguredSubscription] = [], deduplication: TopicDeduplicationPolicy? = nil) {
        self.name = name
        self.subscriptions = subscriptions
        self.deduplication = deduplication
    }
}
