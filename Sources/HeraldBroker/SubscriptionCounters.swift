import Synchronization

/// How many messages were published to a topic (accepted, not deduplicated), shared by every
/// routing snapshot of the topic so a rebuild does not reset it. One relaxed add per message.
final class TopicPublishCounter: Sendable {
    private let count = Atomic<UInt64>(0)
    /// Publishes to the topic refused by the topic's own rules (FIFO ids, deduplication keys).
    private let rejectedCount = Atomic<UInt64>(0)
    func add(_ n: Int) { count.wrappingAdd(UInt64(n), ordering: .relaxed) }
    func addRejected() { rejectedCount.wrappingAdd(1, ordering: .relaxed) }
    var value: UInt64 { count.load(ordering: .relaxed) }
    var rejected: UInt64 { rejectedCount.load(ordering: .relaxed) }
}

/// What a named subscription's filter let through and kept out since it was installed: the
/// "why did my subscriber get nothing?" numbers. Kept across reloads that keep the subscription.
final class SubscriptionMatchCounter: Sendable {
    let topic: TopicPublishCounter
    /// The topic's count when the subscription was installed.
    let publishedAtStart: UInt64
    private let matchedCount = Atomic<UInt64>(0)

    init(topic: TopicPublishCounter) {
        self.topic = topic
        self.publishedAtStart = topic.value
    }

    func addMatched(_ n: Int) { matchedCount.wrappingAdd(UInt64(n), ordering: .relaxed) }

    var matched: UInt64 { matchedCount.load(ordering: .relaxed) }
    /// Published since the install and not matched (approximate while publishes are in flight:
    /// a message is counted published before its match is).
    var filteredOut: UInt64 {
        let published = topic.value &- publishedAtStart
        let matched = self.matched
        return published > matched ? published - matched : 0
    }
}

/// A named subscription's counts, as `Broker.matchCounts` reports them.
public struct SubscriptionMatchCounts: Sendable, Hashable {
    public var matched: UInt64
    public var filteredOut: UInt64
}
