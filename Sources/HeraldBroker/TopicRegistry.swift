import FilterPolicy
import HeraldCore

/// The writers' view of topics and sessions, behind `Broker.registry`. Only subscribe,
/// unsubscribe, session attach/detach, expiry, reload and route compaction touch it; publishers
/// never do (except to auto-create a topic).
struct Registry {
    var topics: [String: TopicEntry] = [:]
    var sessions: [SessionID: StreamSessionCore] = [:]
    var nextSubscriptionID: UInt64 = 1
    /// Subscriptions of every kind on every topic (the server-wide limit).
    var subscriptionTotal = 0
    /// Topics whose route holds more than one matcher tier, or tiers with many retired slots:
    /// `Broker.compactRoutes` folds them into one matcher off the registry lock.
    var compactable: Set<String> = []

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
    /// The matcher tier compiled with this slot's policy; 0 while it is pending (or has no policy).
    var tier: UInt64 = 0
}

/// One compiled matcher of a topic's route and the slots it was built over.
struct MatcherTier {
    let id: UInt64
    let matcher: any SubscriptionMatcher
    /// Slots compiled into `matcher`.
    let slots: [Int]
    /// Of `slots`, those whose subscription left since: matches on them are skipped (their target
    /// is nil) and the slot is reused only once this tier is rebuilt.
    var retired: [Int] = []
}

/// What `Broker.compactRoutes` builds off the lock: every live policy of some tiers of one topic.
struct CompactionPlan: Sendable {
    let topic: String
    let tierIDs: [UInt64]
    /// How many slots each planned tier had retired when the plan was made.
    let retiredCounts: [Int]
    let policies: [(id: Int, policy: FilterPolicy?)]
}

/// A topic's mutable subscription table, from which its `TopicRoute` snapshot is built.
///
/// Subscribing and unsubscribing cost amortised O(log n) per operation however big the topic:
/// - targets and policy-less subscriptions live in persistent tries shared with the snapshots, so
///   a new snapshot copies a few trie nodes, not the table;
/// - filtered subscriptions are compiled into tiers (like an LSM tree): each change compiles only
///   the new subscriptions into a small tier, and two neighbouring tiers of similar size merge, so a
///   policy is recompiled O(log n) times over its life. Tiers past `sealedTierSize` are never
///   merged on a writer's path (that would stall the caller's event loop): `Broker.compactRoutes`
///   folds them, and any tiers once the topic is quiet, into one matcher off the registry lock;
/// - a removed subscription's slot is retired in its tier (its target is nil, so a match on it is
///   skipped) and only reused after that tier is rebuilt, so one matcher id never means two
///   subscriptions in one route.
struct TopicEntry {
    let name: String
    /// Declared by the current configuration (as opposed to auto-created).
    var declared: Bool
    private var slots = SlotTable<TopicSlot>()
    /// Where each subscription delivers, by slot; shared with route snapshots.
    private var targets = PersistentSlots<RouteTarget>()
    private var slotBySubscriptionID: [UInt64: Int] = [:]
    /// Configuration-declared subscriptions by name.
    private(set) var configuredSlots: [String: Int] = [:]
    /// Named subscriptions made at run time (SNS Subscribe to a queue), by name.
    private(set) var runtimeSlots: [String: Int] = [:]
    /// The topic's deduplication window, handed to every route; kept across reloads while the
    /// policy stays the same (so a reload does not forget the keys seen).
    private(set) var deduplicator: TopicDeduplicator?
    /// Messages published to the topic, handed to every route (named subscriptions' filtered-out counts).
    let publishCounter = TopicPublishCounter()

    /// Policy-less subscriptions, packed at `0..<unfilteredCount` (removal moves the last one into
    /// the hole); they match everything, so publishers walk them without a matcher call.
    private var unfiltered = PersistentSlots<RouteTarget>()
    private var unfilteredSlots: [Int] = []
    private var unfilteredPosition: [Int: Int] = [:]

    /// Oldest (biggest) first.
    private var tiers: [MatcherTier] = []
    private var nextTierID: UInt64 = 1
    /// Filtered slots added since the last route.
    private var pendingSlots: [Int] = []
    /// Tiers whose compiled policy of some slot changed in place: rebuilt by the next route.
    private var staleTiers: Set<UInt64> = []
    /// Set by every route change, cleared by `compactionPlan`: a topic that stayed unchanged for a
    /// whole compaction period is quiet, and then even small tiers are folded.
    private var changedSincePlan = false

    /// Topics up to this many filtered subscriptions keep one matcher (a rebuild is cheap).
    static let singleTierThreshold = 256
    /// Tiers this big are merged only by compaction, off the writers' path.
    static let sealedTierSize = 1_024

    /// A FIFO topic starts with SNS's deduplication (no content-based ids); the configuration
    /// may change that with `setDeduplication`.
    init(name: String, declared: Bool) {
        self.name = name
        self.declared = declared
        if TopicName.isFIFO(name) { deduplicator = TopicDeduplicator(policy: .fifo(contentBasedDeduplication: false)) }
    }

    /// Sets the topic's deduplication policy (validated by the caller); the next route carries it.
    mutating func setDeduplication(_ policy: TopicDeduplicationPolicy?) {
        guard deduplicator?.policy != policy else { return }
        deduplicator = policy.map { TopicDeduplicator(policy: $0) }
    }

    var subscriptionCount: Int { slotBySubscriptionID.count }

    /// The match counts of the named subscription `name` (configured or run-time) that delivers
    /// to a queue; nil for other names.
    func matchCounts(_ name: String) -> SubscriptionMatchCounts? {
        guard let index = configuredSlots[name] ?? runtimeSlots[name],
              let counter = (slots[index]?.target.target as? QueueSubscription)?.counter
        else { return nil }
        return SubscriptionMatchCounts(matched: counter.matched, filteredOut: counter.filteredOut)
    }
    var streamSubscriptionCount: Int { slotBySubscriptionID.count - configuredSlots.count - runtimeSlots.count }
    /// Compiled matchers in the current route (tests, compaction).
    var tierCount: Int { tiers.count }
    /// Whether `Broker.compactRoutes` has work here.
    var needsCompaction: Bool {
        tiers.count > 1 || tiers.contains { $0.retired.count * 4 > $0.slots.count }
    }

    mutating func add(_ slot: TopicSlot) {
        let index = slots.insert(slot)
        slotBySubscriptionID[slot.subscriptionID] = index
        targets.set(index, slot.target)
        if slot.policy == nil {
            addUnfiltered(index, slot.target)
        } else {
            pendingSlots.append(index)
        }
    }

    @discardableResult
    mutating func remove(subscriptionID: UInt64) -> Bool {
        guard let index = slotBySubscriptionID.removeValue(forKey: subscriptionID), let slot = slots.take(index) else { return false }
        targets.set(index, nil)
        if slot.policy == nil {
            removeUnfiltered(index)
            slots.free(index)
        } else if slot.tier == 0 {
            if let position = pendingSlots.lastIndex(of: index) { pendingSlots.remove(at: position) }
            slots.free(index)
        } else if let position = tiers.firstIndex(where: { $0.id == slot.tier }) {
            tiers[position].retired.append(index)
        }
        return true
    }

    /// The stream subscriptions on this topic (deleting the topic removes them from their sessions).
    var streamTargets: [(session: StreamSessionCore, slot: Int, subscriptionID: UInt64)] {
        slots.elements.compactMap { slot in
            guard let target = slot?.target, let session = target.target as? StreamSessionCore else { return nil }
            return (session, target.slot, target.subscriptionID)
        }
    }

    /// Gives a subscription a new policy (its slot, so its matcher id, stays); the next route
    /// recompiles what knew the old one.
    mutating func replacePolicy(subscriptionID: UInt64, policy: FilterPolicy?) {
        guard let index = slotBySubscriptionID[subscriptionID], let old = slots[index], old.policy != policy else { return }
        replaceSlot(index, with: TopicSlot(subscriptionID: subscriptionID, policy: policy, target: old.target))
    }

    /// Sets the configuration-declared subscriptions to exactly `wanted`: a kept name keeps its slot
    /// (so its matcher id) with the new policy and target.
    mutating func replaceConfigured(_ wanted: [ConfiguredSubscription], makeID: () -> UInt64) {
        var next: [String: Int] = [:]
        for subscription in wanted {
            next[subscription.name] = put(subscription, at: configuredSlots[subscription.name], makeID: makeID)
        }
        for (name, index) in configuredSlots where next[name] == nil {
            if let id = slots[index]?.subscriptionID { remove(subscriptionID: id) }
        }
        configuredSlots = next
    }

    /// Adds or replaces the run-time subscription `subscription.name`; true when it is new.
    mutating func putRuntime(_ subscription: ConfiguredSubscription, makeID: () -> UInt64) -> Bool {
        let existing = runtimeSlots[subscription.name]
        runtimeSlots[subscription.name] = put(subscription, at: existing, makeID: makeID)
        return existing == nil
    }

    /// Removes the run-time subscription `name`; false when there is none.
    mutating func removeRuntime(_ name: String) -> Bool {
        guard let index = runtimeSlots.removeValue(forKey: name), let id = slots[index]?.subscriptionID else { return false }
        return remove(subscriptionID: id)
    }

    /// A named subscription's slot: `existing` keeps its slot (so its matcher id) with the new
    /// policy and target; otherwise a new slot.
    private mutating func put(_ subscription: ConfiguredSubscription, at existing: Int?, makeID: () -> UInt64) -> Int? {
        let target: RouteTarget
        switch subscription.target {
        case .endpoint(let endpoint):
            target = RouteTarget(EndpointSubscription(name: subscription.name, endpoint: endpoint))
        case .queue(let route, let manager):
            // A replaced subscription keeps counting where it was.
            let kept = existing.flatMap { slots[$0]?.target.target as? QueueSubscription }?.counter
            target = RouteTarget(QueueSubscription(route: route, manager: manager, counter: kept ?? SubscriptionMatchCounter(topic: publishCounter)))
        }
        if let index = existing, let old = slots[index] {
            replaceSlot(index, with: TopicSlot(subscriptionID: old.subscriptionID, policy: subscription.policy, target: target))
            return index
        }
        let slot = TopicSlot(subscriptionID: makeID(), policy: subscription.policy, target: target)
        add(slot)
        return slotBySubscriptionID[slot.subscriptionID]
    }

    /// Puts `new` in the slot of an existing subscription: a policy change recompiles the old
    /// policy's tier (or moves the slot between the matchers and the unfiltered list).
    private mutating func replaceSlot(_ index: Int, with new: TopicSlot) {
        guard let old = slots[index] else { return }
        var slot = new
        targets.set(index, slot.target)
        switch (old.policy, new.policy) {
        case (nil, nil):
            setUnfiltered(index, slot.target)
        case (nil, _?):
            removeUnfiltered(index)
            pendingSlots.append(index)
        case (_?, let policy):
            if old.policy == policy {
                slot.tier = old.tier
            } else if old.tier == 0 {
                if let position = pendingSlots.lastIndex(of: index) { pendingSlots.remove(at: position) }
                if policy == nil { addUnfiltered(index, slot.target) } else { pendingSlots.append(index) }
            } else {
                // The tier still holds the old policy: it is rebuilt from the slots' current ones.
                staleTiers.insert(old.tier)
                slot.tier = policy == nil ? 0 : old.tier
                if policy == nil { addUnfiltered(index, slot.target) }
            }
        }
        slots[index] = slot
    }

    private mutating func addUnfiltered(_ index: Int, _ target: RouteTarget) {
        unfilteredPosition[index] = unfilteredSlots.count
        unfiltered.set(unfilteredSlots.count, target)
        unfilteredSlots.append(index)
    }

    private mutating func setUnfiltered(_ index: Int, _ target: RouteTarget) {
        guard let position = unfilteredPosition[index] else { return }
        unfiltered.set(position, target)
    }

    private mutating func removeUnfiltered(_ index: Int) {
        guard let position = unfilteredPosition.removeValue(forKey: index), let lastSlot = unfilteredSlots.popLast() else { return }
        let last = unfilteredSlots.count
        if position != last {
            unfilteredSlots[position] = lastSlot
            unfilteredPosition[lastSlot] = position
            unfiltered.set(position, unfiltered[last])
        }
        unfiltered.set(last, nil)
    }

    // MARK: - Routes

    /// The immutable snapshot publishers read, after a change: recompiles stale tiers, compiles
    /// the pending subscriptions into a new tier and merges neighbouring small tiers.
    mutating func makeRoute(_ factory: any SubscriptionMatcherFactory, isChange: Bool = true) -> TopicRoute {
        if isChange { changedSincePlan = true }
        if !staleTiers.isEmpty {
            let stale = tiers.indices.filter { staleTiers.contains(tiers[$0].id) }
            staleTiers = []
            for position in stale.reversed() { rebuild(tiersAt: position...position, factory) }
        }
        if !pendingSlots.isEmpty {
            let pending = pendingSlots
            pendingSlots = []
            let tier = makeTier(pending, factory)
            if !tier.slots.isEmpty { tiers.append(tier) }
        }
        let filtered = slotBySubscriptionID.count - unfilteredSlots.count
        if filtered <= Self.singleTierThreshold {
            if tiers.count > 1 || tiers.first.map({ !$0.retired.isEmpty }) == true {
                rebuild(tiersAt: tiers.indices, factory)
            }
        } else {
            while tiers.count >= 2 {
                let older = tiers[tiers.count - 2], newer = tiers[tiers.count - 1]
                guard older.slots.count < Self.sealedTierSize, older.slots.count <= 2 * newer.slots.count else { break }
                rebuild(tiersAt: (tiers.count - 2)...(tiers.count - 1), factory)
            }
            if let last = tiers.last, last.slots.count < Self.sealedTierSize, last.retired.count * 2 > last.slots.count {
                rebuild(tiersAt: (tiers.count - 1)...(tiers.count - 1), factory)
            }
        }
        return TopicRoute(
            topic: name, matchers: tiers.map(\.matcher), unfiltered: unfiltered,
            unfilteredCount: unfilteredSlots.count, targets: targets, hasTargets: !slotBySubscriptionID.isEmpty,
            deduplicator: deduplicator, publishCounter: publishCounter)
    }

    /// Compiles the live filtered slots among `indices` into a new tier.
    private mutating func makeTier(_ indices: [Int], _ factory: any SubscriptionMatcherFactory) -> MatcherTier {
        let id = nextTierID
        nextTierID += 1
        var policies: [(id: Int, policy: FilterPolicy?)] = []
        policies.reserveCapacity(indices.count)
        for index in indices {
            guard let policy = slots[index]?.policy else { continue }
            slots[index]?.tier = id
            policies.append((id: index, policy: policy))
        }
        return MatcherTier(id: id, matcher: factory.makeMatcher(policies), slots: policies.map(\.id))
    }

    /// Replaces the tiers at `range` with one tier over their live slots; their retired slots free.
    private mutating func rebuild(tiersAt range: ClosedRange<Int>, _ factory: any SubscriptionMatcherFactory) {
        var live: [Int] = []
        for tier in tiers[range] {
            slots.free(tier.retired)
            live.append(contentsOf: tier.slots.filter { slots[$0]?.tier == tier.id })
        }
        let tier = makeTier(live, factory)
        tiers.replaceSubrange(range, with: tier.slots.isEmpty ? [] : [tier])
    }

    private mutating func rebuild(tiersAt range: Range<Int>, _ factory: any SubscriptionMatcherFactory) {
        guard !range.isEmpty else { return }
        rebuild(tiersAt: range.lowerBound...(range.upperBound - 1), factory)
    }

    // MARK: - Compaction (Broker.compactRoutes)

    /// The tiers worth folding into one matcher now, with their live policies: the sealed ones
    /// while the topic churns, all of them once it stayed unchanged since the last plan; a single
    /// tier when a quarter of it is retired. Nil when there is nothing to do.
    mutating func compactionPlan() -> CompactionPlan? {
        let quiet = !changedSincePlan
        changedSincePlan = false
        let chosen = quiet ? Array(tiers.indices) : tiers.indices.filter { tiers[$0].slots.count >= Self.sealedTierSize }
        guard chosen.count > 1 || chosen.contains(where: { tiers[$0].retired.count * 4 > tiers[$0].slots.count }) else {
            return nil
        }
        var policies: [(id: Int, policy: FilterPolicy?)] = []
        for position in chosen {
            let tier = tiers[position]
            for index in tier.slots {
                guard let slot = slots[index], slot.tier == tier.id, let policy = slot.policy else { continue }
                policies.append((id: index, policy: policy))
            }
        }
        return CompactionPlan(
            topic: name, tierIDs: chosen.map { tiers[$0].id }, retiredCounts: chosen.map { tiers[$0].retired.count },
            policies: policies)
    }

    /// Swaps in the matcher built from `plan`, unless a writer rebuilt one of its tiers meanwhile
    /// (then false: the plan is dropped and the next period tries again). Slots retired since the
    /// plan stay retired in the new tier, which still knows them.
    mutating func applyCompaction(_ plan: CompactionPlan, matcher: any SubscriptionMatcher) -> Bool {
        let positions = plan.tierIDs.compactMap { id in tiers.firstIndex { $0.id == id } }
        guard positions.count == plan.tierIDs.count, staleTiers.isDisjoint(with: plan.tierIDs) else { return false }
        let id = nextTierID
        nextTierID += 1
        var retired: [Int] = []
        for (position, retiredBefore) in zip(positions, plan.retiredCounts) {
            let tier = tiers[position]
            slots.free(tier.retired[..<retiredBefore])
            retired.append(contentsOf: tier.retired[retiredBefore...])
        }
        let planned = Set(plan.tierIDs)
        for (index, _) in plan.policies where slots[index].map({ planned.contains($0.tier) }) == true {
            slots[index]?.tier = id
        }
        let tier = MatcherTier(id: id, matcher: matcher, slots: plan.policies.map(\.id), retired: retired)
        var kept = tiers.filter { !planned.contains($0.id) }
        kept.insert(tier, at: 0)
        tiers = kept
        return true
    }
}
