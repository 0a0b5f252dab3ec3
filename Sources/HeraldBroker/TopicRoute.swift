import FilterPolicy
import HeraldCore

/// A topic's immutable routing snapshot: its matchers (the main one, plus a delta one for big
/// topics; their ids are disjoint) and, indexed by matcher id, where each subscription delivers.
/// Rebuilt by writers under the registry lock and swapped in by pointer;
/// publishers only retain the current one and then read it without any lock.
final class TopicRoute: Sendable {
    let topic: String
    let matchers: [any SubscriptionMatcher]
    let targets: [RouteTarget?]
    let hasTargets: Bool

    init(topic: String, matchers: [any SubscriptionMatcher], targets: [RouteTarget?], hasTargets: Bool) {
        self.topic = topic
        self.matchers = matchers
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
