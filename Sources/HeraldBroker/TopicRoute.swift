import FilterPolicy
import HeraldCore

/// A topic's immutable routing snapshot: its matchers (one, or a few tiers while the topic churns;
/// their ids are disjoint) and, indexed by matcher id, where each subscription delivers.
/// Subscriptions without a filter policy match every message: they are listed in `unfiltered`
/// and kept out of the matchers, so a topic without policies costs no matcher call per message.
/// Rebuilt by writers under the registry lock and swapped in by pointer (the tables are persistent
/// tries, so a rebuild shares all but a few nodes with the previous snapshot); publishers only
/// retain the current one and then read it without any lock.
final class TopicRoute: Sendable {
    let topic: String
    let matchers: [any SubscriptionMatcher]
    /// The targets of the subscriptions without a policy, at `0..<unfilteredCount`.
    let unfiltered: PersistentSlots<RouteTarget>
    let unfilteredCount: Int
    /// Indexed by matcher id; nil for a slot whose subscription left since the matcher was built.
    let targets: PersistentSlots<RouteTarget>
    let hasTargets: Bool
    /// The topic's deduplication window (shared by every snapshot of the topic); nil when the
    /// topic does not deduplicate, so publishes to it take no lock for it.
    let deduplicator: TopicDeduplicator?
    /// The topic's publish count (shared by its snapshots); nil for a topic without subscriptions' routes.
    let publishCounter: TopicPublishCounter?

    init(
        topic: String, matchers: [any SubscriptionMatcher], unfiltered: PersistentSlots<RouteTarget> = PersistentSlots(),
        unfilteredCount: Int = 0, targets: PersistentSlots<RouteTarget>, hasTargets: Bool, deduplicator: TopicDeduplicator? = nil,
        publishCounter: TopicPublishCounter? = nil
    ) {
        self.publishCounter = publishCounter
        self.topic = topic
        self.matchers = matchers
        self.unfiltered = unfiltered
        self.unfilteredCount = unfilteredCount
        self.targets = targets
        self.hasTargets = hasTargets
        self.deduplicator = deduplicator
    }

    static func empty(_ topic: String) -> TopicRoute {
        TopicRoute(topic: topic, matchers: [], targets: PersistentSlots(), hasTargets: false)
    }
}

/// Where one subscription of a route delivers: its target (the publish path groups matches by
/// target identity, whatever the kind) and, for a stream session, which of its subscriptions —
/// the slot of its state inside the session and its broker-wide unique id (a stale snapshot that
/// names a reused slot is recognised by the id and skipped).
struct RouteTarget: Sendable {
    let target: any DeliveryTarget
    let slot: Int
    let subscriptionID: UInt64

    init(_ target: any DeliveryTarget, slot: Int = 0, subscriptionID: UInt64 = 0) {
        self.target = target
        self.slot = slot
        self.subscriptionID = subscriptionID
    }
}
