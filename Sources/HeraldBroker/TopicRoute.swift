import FilterPolicy
import HeraldCore

/// A topic's immutable routing snapshot: its matchers (the main one, plus a delta one for big
/// topics; their ids are disjoint) and, indexed by matcher id, where each subscription delivers.
/// Subscriptions without a filter policy match every message: they are listed in `unfiltered`
/// and kept out of the matchers, so a topic without policies costs no matcher call per message.
/// Rebuilt by writers under the registry lock and swapped in by pointer;
/// publishers only retain the current one and then read it without any lock.
final class TopicRoute: Sendable {
    let topic: String
    let matchers: [any SubscriptionMatcher]
    /// Ids (indices into `targets`) of the subscriptions without a policy.
    let unfiltered: [Int]
    let targets: [RouteTarget?]
    let hasTargets: Bool

    init(
        topic: String, matchers: [any SubscriptionMatcher], unfiltered: [Int] = [], targets: [RouteTarget?],
        hasTargets: Bool
    ) {
        self.topic = topic
        self.matchers = matchers
        self.unfiltered = unfiltered
        self.targets = targets
        self.hasTargets = hasTargets
    }

    static func empty(_ topic: String) -> TopicRoute {
        TopicRoute(topic: topic, matchers: [], targets: [], hasTargets: false)
    }
}

/// Where one subscription of a route delivers. Later: `.queue`, `.http`.
enum RouteTarget: Sendable {
    case stream(StreamRouteTarget)
    case endpoint(EndpointSubscription)
}

/// A stream subscription as a route sees it: the session that owns its state, the slot of that
/// state inside the session, and its broker-wide unique id (a stale snapshot that names a reused
/// slot is recognised by the id and skipped).
struct StreamRouteTarget: Sendable {
    let session: StreamSessionCore
    let slot: Int
    let subscriptionID: UInt64
}

/// A configuration-declared subscription. Immutable: a reload that changes it installs a new one.
final class EndpointSubscription: Sendable {
    let name: String
    let endpoint: any MessageEndpoint

    init(name: String, endpoint: any MessageEndpoint) {
        self.name = name
        self.endpoint = endpoint
    }
}
