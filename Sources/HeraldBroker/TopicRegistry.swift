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
struct TopicEntry {
    let name: String
    /// Declared by the current configuration (as opposed to auto-created).
    var declared: Bool
    private(set) var slots: [TopicSlot?] = []
    private var freeSlots: [Int] = []
    private var slotBySubscriptionID: [UInt64: Int] = [:]
    /// Configuration-declared subscriptions by name.
    private(set) var configuredSlots: [String: Int] = [:]

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
    }

    @discardableResult
    mutating func remove(subscriptionID: UInt64) -> Bool {
        guard let index = slotBySubscriptionID.removeValue(forKey: subscriptionID) else { return false }
        slots[index] = nil
        freeSlots.append(index)
        return true
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

    /// The immutable snapshot publishers read.
    func makeRoute(_ factory: any SubscriptionMatcherFactory) -> TopicRoute {
        guard subscriptionCount > 0 else { return .empty(name) }
        var policies: [(id: Int, policy: FilterPolicy?)] = []
        policies.reserveCapacity(subscriptionCount)
        var targets: [RouteTarget?] = []
        targets.reserveCapacity(slots.count)
        for (index, slot) in slots.enumerated() {
            targets.append(slot?.target)
            if let slot { policies.append((id: index, policy: slot.policy)) }
        }
        return TopicRoute(topic: name, matcher: factory.makeMatcher(policies), targets: targets, hasTargets: true)
    }
}
