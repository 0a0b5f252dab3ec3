import FilterPolicy
import HeraldCore

/// The writers' view of topics and sessions, behind `Broker.registry`. Only subscribe,
/// unsubscribe, session attach/detach, expiry and reload touch it; publishers never do (except to
/// auto-create a topic).
struct Registry {
    var topics: [String: TopicEntry] = [:]
    var sessions: [SessionID: StreamSessionCore] = [:]
    var nextSubscriptionID: UInt64 = 1

    mutating func makeSubscriptionID() -> UInt64 {
        defer { nextSubscriptionID += 1 }
        return nextSubscriptionID
    }
}

/// One subscription in a topic's slot table; the slot index is its matcher id.
struct TopicSlot {
    let subscriptionID: UInt64
    let policy: FilterPolicy?
    let target: RouteTarget
}

/// A topic's mutable subscription table, from which its `TopicRoute` snapshot is built.
///
/// Matcher builds are kept sub-quadratic for big topics: the route holds a main matcher, rebuilt
/// in full only now and then, plus a small delta matcher over the subscriptions added since. A
/// slot removed while the main matcher still knows it is retired (its target is nil, so matches on
/// it are skipped) and only reused after the next full build, so one matcher id never means two
/// subscriptions in one route.
struct TopicEntry {
    let name: String
    /// Declared by the current configuration (as opposed to auto-created).
    var declared: Bool
    private(set) var slots: [TopicSlot?] = []
    /// Slots no matcher of the current route knows: free to reuse.
    private var freeSlots: [Int] = []
    /// Freed slots the main matcher still knows: reusable after the next full build.
    private var retiredSlots: [Int] = []
    private var slotBySubscriptionID: [UInt64: Int] = [:]
    /// Configuration-declared subscriptions by name.
    private(set) var configuredSlots: [String: Int] = [:]

    private var mainMatcher: (any SubscriptionMatcher)?
    private var mainCount = 0
    /// Slots added since the main matcher was built.
    private var deltaSlots: [Int] = []
    /// A policy changed in place: the main matcher is wrong, not just incomplete.
    private var needsFullBuild = false

    /// Topics up to this many subscriptions always rebuild in full (cheap; one matcher call).
    static let fullBuildThreshold = 256

    init(name: String, declared: Bool) {
        self.name = name
        self.declared = declared
    }

    var subscriptionCount: Int { slotBySubscriptionID.count }
    var streamSubscriptionCount: Int { slotBySubscriptionID.count - configuredSlots.count }

    mutating func add(_ slot: TopicSlot) {
        let index: Int
        if let free = freeSlots.popLast() {
            index = free
            slots[index] = slot
        } else {
            index = slots.count
            slots.append(slot)
        }
        slotBySubscriptionID[slot.subscriptionID] = index
        deltaSlots.append(index)
    }

    @discardableResult
    mutating func remove(subscriptionID: UInt64) -> Bool {
        guard let index = slotBySubscriptionID.removeValue(forKey: subscriptionID) else { return false }
        slots[index] = nil
        if let position = deltaSlots.firstIndex(of: index) {
            deltaSlots.remove(at: position)
            freeSlots.append(index)
        } else {
            retiredSlots.append(index)
        }
        return true
    }

    /// Gives a subscription a new policy (its slot, so its matcher id, stays); the next route
    /// rebuilds the main matcher.
    mutating func replacePolicy(subscriptionID: UInt64, policy: FilterPolicy?) {
        guard let index = slotBySubscriptionID[subscriptionID], let old = slots[index], old.policy != policy else { return }
        slots[index] = TopicSlot(subscriptionID: subscriptionID, policy: policy, target: old.target)
        needsFullBuild = true
    }

    /// Sets the configuration-declared subscriptions to exactly `wanted`: a kept name keeps its slot
    /// (so its matcher id) with the new policy and target.
    mutating func replaceConfigured(
        _ wanted: [ConfiguredSubscription], makeID: () -> UInt64
    ) {
        var next: [String: Int] = [:]
        for subscription in wanted {
            let target: RouteTarget
            switch subscription.target {
            case .endpoint(let endpoint):
                target = .endpoint(EndpointSubscription(name: subscription.name, endpoint: endpoint))
            }
            if let index = configuredSlots[subscription.name], let old = slots[index] {
                slots[index] = TopicSlot(subscriptionID: old.subscriptionID, policy: subscription.policy, target: target)
                next[subscription.name] = index
                if old.policy != subscription.policy { needsFullBuild = true }
            } else {
                let slot = TopicSlot(subscriptionID: makeID(), policy: subscription.policy, target: target)
                add(slot)
                if let index = slotBySubscriptionID[slot.subscriptionID] { next[subscription.name] = index }
            }
        }
        for (name, index) in configuredSlots where next[name] == nil {
            if let id = slots[index]?.subscriptionID { remove(subscriptionID: id) }
        }
        configuredSlots = next
    }

    /// The immutable snapshot publishers read, after a change. Rebuilds the main matcher when the
    /// topic is small, a policy changed in place, the delta outgrew √n, or retired slots pile up;
    /// otherwise only the delta matcher.
    mutating func makeRoute(_ factory: any SubscriptionMatcherFactory) -> TopicRoute {
        let count = subscriptionCount
        guard count > 0 else {
            mainMatcher = nil
            mainCount = 0
            deltaSlots = []
            freeSlots.append(contentsOf: retiredSlots)
            retiredSlots = []
            needsFullBuild = false
            return .empty(name)
        }
        let deltaLimit = max(64, Int(Double(count).squareRoot()))
        let full = mainMatcher == nil || needsFullBuild || count <= Self.fullBuildThreshold
            || deltaSlots.count > deltaLimit || retiredSlots.count > max(64, mainCount / 4)
        var matchers: [any SubscriptionMatcher] = []
        if full {
            var policies: [(id: Int, policy: FilterPolicy?)] = []
            policies.reserveCapacity(count)
            for (index, slot) in slots.enumerated() {
                if let slot, let policy = slot.policy { policies.append((id: index, policy: policy)) }
            }
            let main = factory.makeMatcher(policies)
            mainMatcher = main
            mainCount = count
            deltaSlots = []
            freeSlots.append(contentsOf: retiredSlots)
            retiredSlots = []
            needsFullBuild = false
            if !policies.isEmpty { matchers = [main] }
        } else if let main = mainMatcher {
            matchers = [main]
            let policies = deltaSlots.compactMap { index -> (id: Int, policy: FilterPolicy?)? in
                guard let policy = slots[index]?.policy else { return nil }
                return (id: index, policy: policy)
            }
            if !policies.isEmpty { matchers.append(factory.makeMatcher(policies)) }
        }
        // Policy-less subscriptions match everything: no matcher call for them (see TopicRoute).
        var unfiltered: [Int] = []
        for (index, slot) in slots.enumerated() where slot != nil && slot?.policy == nil { unfiltered.append(index) }
        return TopicRoute(
            topic: name, matchers: matchers, unfiltered: unfiltered, targets: slots.map { $0?.target }, hasTargets: true)
    }
}
