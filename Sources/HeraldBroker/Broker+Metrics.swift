import HeraldCore

/// What the metrics endpoint reads at scrape time: every topic's publish counts and every named
/// subscription's match counts, and every stream subscription's backlog. Built from the counters
/// the publish path already keeps (relaxed atomics, no lock of their own), so a scrape costs the
/// hot path nothing; the scrape itself takes the registry lock (and each session's lock for
/// `streamSubscriberMetrics`) once, like `gauges`.
///
/// Contract: any thread, at scrape rate (about once a second), never per message.
extension Broker {
    /// Every topic, sorted by name.
    public func topicMetrics() -> [TopicMetrics] {
        registry.withLock { reg in
            reg.topics.values.map { entry in
                let names = (Array(entry.configuredSlots.keys) + Array(entry.runtimeSlots.keys)).sorted()
                let named = names.compactMap { name in
                    entry.matchCounts(name).map { NamedSubscriptionMetrics(name: name, matched: $0.matched, filteredOut: $0.filteredOut) }
                }
                return TopicMetrics(
                    name: entry.name, published: entry.publishCounter.value, rejected: entry.publishCounter.rejected,
                    subscriptions: entry.subscriptionCount, streamSubscriptions: entry.streamSubscriptionCount, namedSubscriptions: named)
            }
        }.sorted { $0.name < $1.name }
    }

    /// Every stream subscription with its backlog, biggest `pending` first, at most `limit` of
    /// them (a scrape stays small with many thousands of subscribers).
    public func streamSubscriberMetrics(limit: Int = 100) -> [StreamSubscriberMetrics] {
        var all: [StreamSubscriberMetrics] = []
        registry.withLock { reg in
            for session in reg.sessions.values {
                let owner = session.owner.description
                session.state.withLock { st in
                    for case let subscription? in st.slots {
                        all.append(StreamSubscriberMetrics(
                            topic: subscription.topic, subscriptionID: subscription.id, name: subscription.tag, owner: owner,
                            attached: subscription.isAttached, pending: subscription.pendingCount, inFlight: subscription.inFlight.count))
                    }
                }
            }
        }
        all.sort { ($0.pending, $0.inFlight, $1.subscriptionID) > ($1.pending, $1.inFlight, $0.subscriptionID) }
        return Array(all.prefix(max(0, limit)))
    }
}

/// One topic's counters since start (the publish counts survive reloads that keep the topic).
public struct TopicMetrics: Sendable, Hashable {
    public var name: String
    /// Messages accepted (deduplicated publishes are not counted).
    public var published: UInt64
    /// Publishes the topic's own rules refused (a FIFO topic without a group id, a bad
    /// deduplication key); publishes to a topic that does not exist have no topic to count under.
    public var rejected: UInt64
    /// Subscriptions of every kind.
    public var subscriptions: Int
    public var streamSubscriptions: Int
    /// Named subscriptions (configured or made at run time) that deliver through a queue.
    public var namedSubscriptions: [NamedSubscriptionMetrics]
}

/// A named subscription's filter results since it was installed.
public struct NamedSubscriptionMetrics: Sendable, Hashable {
    public var name: String
    public var matched: UInt64
    /// Published to the topic and kept out by the filter policy.
    public var filteredOut: UInt64
}

/// One stream subscription's backlog. `name` is the configured subscription it attached to, if
/// any; `subscriptionID` is the broker's id for it (session ids are never reported: they resume).
public struct StreamSubscriberMetrics: Sendable, Hashable {
    public var topic: String
    public var subscriptionID: UInt64
    public var name: String?
    /// `anonymous` or `user NAME`.
    public var owner: String
    public var attached: Bool
    /// Waiting for credit.
    public var pending: Int
    /// Delivered, not yet acked.
    public var inFlight: Int
}
