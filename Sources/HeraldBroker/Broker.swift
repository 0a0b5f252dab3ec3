import FilterPolicy
import HeraldCore
import Synchronization

/// Topics, subscriptions and the publish path (fan-out to stream sessions and endpoints).
///
/// Threading: every method may be called from any thread, concurrently. Publishers take the
/// routing lock once per topic change in a batch, just to retain the topic's immutable
/// `TopicRoute`, then match and group without locks, then take each touched session's lock once.
/// Writers (subscribe, unsubscribe, attach, detach, expiry, reload) serialise on the registry lock
/// and rebuild the affected topic's matcher outside the publishers' way, swapping it in by pointer.
///
/// Lock order: registry → session → routing. Sinks are called under a session lock (and, for a
/// resume, under the registry lock too); `StreamSink` documents what that demands.
///
/// The broker's logic reads no clock: time arrives as `now` (nanoseconds, any monotonic origin the
/// caller uses consistently), or, where a publish needs it (deduplication windows), from the
/// injected `clock`.
public final class Broker: Sendable {
    public let options: BrokerOptions
    let factory: any SubscriptionMatcherFactory
    let registry = Mutex(Registry())
    let routes = Mutex<[String: TopicRoute]>([:])
    let counters = BrokerCounters()
    let messageIDs: MessageIDGenerator
    /// Monotonic nanoseconds; read at most once per publish batch, and only when a topic of the
    /// batch deduplicates. Called on publisher threads, concurrently.
    let clock: @Sendable () -> UInt64
    /// Lower-case hex SHA-256 of a body (content-based deduplication ids, body keys).
    let contentHash: @Sendable ([UInt8]) -> String

    /// `idSeed` makes message ids reproducible (tests); nil seeds from the system generator.
    /// `clock` (monotonic nanoseconds) and `contentHash` are injected so tests control time and a
    /// faster hash can stand in; the defaults are the system's uptime clock and `SHA256.hex`.
    public init(
        options: BrokerOptions = BrokerOptions(), matcherFactory: any SubscriptionMatcherFactory, idSeed: UInt64? = nil,
        clock: @escaping @Sendable () -> UInt64 = BrokerClock.uptimeNanoseconds,
        contentHash: @escaping @Sendable ([UInt8]) -> String = SHA256.hex
    ) {
        self.options = options
        self.factory = matcherFactory
        var system = SystemRandomNumberGenerator()
        self.messageIDs = MessageIDGenerator(seed: idSeed ?? system.next())
        self.clock = clock
        self.contentHash = contentHash
    }

    var limits: BrokerLimits { options.limits }

    public var stats: BrokerStats { counters.snapshot }

    public var gauges: BrokerGauges {
        registry.withLock { reg in
            var gauges = BrokerGauges(
                topics: reg.topics.count, sessions: reg.sessions.count, attachedSessions: 0,
                streamSubscriptions: 0, detachedSubscriptions: 0, pendingMessages: 0, inFlightMessages: 0)
            for session in reg.sessions.values {
                session.state.withLock { st in
                    if st.sink != nil { gauges.attachedSessions += 1 }
                    for case let subscription? in st.slots {
                        gauges.streamSubscriptions += 1
                        if !subscription.isAttached { gauges.detachedSubscriptions += 1 }
                        gauges.pendingMessages += subscription.pendingCount
                        gauges.inFlightMessages += subscription.inFlight.count
                    }
                }
            }
            return gauges
        }
    }

    /// Every topic, sorted.
    public func topicNames() -> [String] {
        registry.withLock { Array($0.topics.keys) }.sorted()
    }

    /// Subscriptions of every kind on `topic`, or nil when it does not exist.
    public func subscriptionCount(topic: String) -> Int? {
        registry.withLock { $0.topics[topic]?.subscriptionCount }
    }

    /// Messages the named subscription `name` of `topic` matched, and those its filter kept out,
    /// since it was installed (nil: no such named subscription delivering to a queue).
    public func matchCounts(topic: String, subscription name: String) -> SubscriptionMatchCounts? {
        registry.withLock { $0.topics[topic]?.matchCounts(name) }
    }

    /// Creates `name` if it does not exist (the admin API's CreateTopic; idempotent).
    public func createTopic(_ name: String) throws(BrokerError) {
        if let problem = TopicName.problem(in: name) { throw .invalidParameter(problem) }
        try registry.withLock { (reg: inout Registry) throws(BrokerError) in
            try ensureTopic(name, in: &reg)
        }
    }

    /// Deletes a topic that is not declared in the configuration, with every subscription on it
    /// (SNS DeleteTopic). Stream subscriptions are removed from their sessions: they receive nothing
    /// more, and an UNSUB of them answers `NotFound`. Deleting a topic that does not exist succeeds
    /// (as in SNS).
    public func deleteTopic(_ name: String) throws(BrokerError) {
        try registry.withLock { (reg: inout Registry) throws(BrokerError) in
            guard let entry = reg.topics[name] else { return }
            guard !entry.declared else {
                throw .invalidParameter("Topic \(name) is declared in the configuration; remove it there")
            }
            for target in entry.streamTargets {
                target.session.state.withLock { st in
                    guard let subscription = st.table[target.slot], subscription.id == target.subscriptionID else { return }
                    _ = st.remove(sid: subscription.sid)
                }
            }
            reg.subscriptionTotal -= entry.subscriptionCount
            reg.topics.removeValue(forKey: name)
            reg.compactable.remove(name)
            _ = routes.withLock { $0.removeValue(forKey: name) }
        }
    }

    /// Replaces the configuration-declared topics and their subscriptions. Everything is validated
    /// first (nothing changes on error); then each topic's new route is swapped in, so a changed
    /// policy applies from the next message. Stream subscriptions are not touched. A topic that
    /// left the configuration keeps existing while stream subscriptions use it or auto-create is
    /// on; otherwise it is deleted.
    public func applyConfiguration(_ topics: [TopicConfiguration]) throws(BrokerError) {
        var seenTopics = Set<String>()
        for topic in topics {
            if let problem = TopicName.problem(in: topic.name) { throw .invalidParameter(problem) }
            guard seenTopics.insert(topic.name).inserted else {
                throw .invalidParameter("Topic \(topic.name) is declared twice")
            }
            if let problem = topic.deduplication?.problem(topic: topic.name) { throw .invalidParameter(problem) }
            var seenNames = Set<String>()
            for subscription in topic.subscriptions {
                try validateIdentifier(subscription.name, what: "subscription name")
                guard seenNames.insert(subscription.name).inserted else {
                    throw .invalidParameter("Subscription \(subscription.name) is declared twice on topic \(topic.name)")
                }
            }
        }
        try registry.withLock { (reg: inout Registry) throws(BrokerError) in
            let newTopics = topics.filter { reg.topics[$0.name] == nil }.count
            guard reg.topics.count + newTopics <= limits.maxTopics || newTopics == 0 else {
                throw .tooManyTopics(limit: limits.maxTopics)
            }
            var total = reg.subscriptionTotal
            for topic in topics {
                let entry = reg.topics[topic.name]
                let streams = entry?.streamSubscriptionCount ?? 0
                guard streams + topic.subscriptions.count <= limits.maxSubscriptionsPerTopic else {
                    throw .tooManySubscriptionsForTopic(topic: topic.name, limit: limits.maxSubscriptionsPerTopic)
                }
                total += topic.subscriptions.count - (entry?.configuredSlots.count ?? 0)
            }
            for (name, entry) in reg.topics where entry.declared && !seenTopics.contains(name) {
                total -= entry.configuredSlots.count
            }
            guard total <= limits.maxSubscriptions || total <= reg.subscriptionTotal else {
                throw .tooManySubscriptions(limit: limits.maxSubscriptions)
            }
            for topic in topics {
                var entry = reg.topics.removeValue(forKey: topic.name) ?? TopicEntry(name: topic.name, declared: true)
                entry.declared = true
                let before = entry.subscriptionCount
                entry.replaceConfigured(topic.subscriptions, makeID: { reg.makeSubscriptionID() })
                entry.setDeduplication(Self.deduplication(of: topic))
                reg.subscriptionTotal += entry.subscriptionCount - before
                reg.topics[topic.name] = consume entry
                publishRoute(topic.name, in: &reg)
            }
            let dropped = reg.topics.values.filter { $0.declared && !seenTopics.contains($0.name) }.map(\.name)
            for name in dropped {
                guard var entry = reg.topics.removeValue(forKey: name) else { continue }
                entry.declared = false
                let before = entry.subscriptionCount
                entry.replaceConfigured([], makeID: { reg.makeSubscriptionID() })
                // Back to what an auto-created topic of that name has.
                entry.setDeduplication(Self.deduplication(of: TopicConfiguration(name: name)))
                reg.subscriptionTotal += entry.subscriptionCount - before
                if entry.streamSubscriptionCount == 0 && !options.autoCreateTopics {
                    _ = routes.withLock { $0.removeValue(forKey: name) }
                } else {
                    reg.topics[name] = consume entry
                    publishRoute(name, in: &reg)
                }
            }
        }
    }

    /// The policy a configured topic gets: its own, or SNS's FIFO defaults on a FIFO topic.
    static func deduplication(of topic: TopicConfiguration) -> TopicDeduplicationPolicy? {
        if let policy = topic.deduplication { return policy }
        return TopicName.isFIFO(topic.name) ? .fifo(contentBasedDeduplication: false) : nil
    }

    // MARK: - Registry helpers (registry lock held)

    /// Makes `name` exist (not declared); the name must already be valid.
    func ensureTopic(_ name: String, in reg: inout Registry) throws(BrokerError) {
        guard reg.topics[name] == nil else { return }
        guard reg.topics.count < limits.maxTopics else { throw .tooManyTopics(limit: limits.maxTopics) }
        reg.topics[name] = TopicEntry(name: name, declared: false)
        publishRoute(name, in: &reg)
    }

    /// Builds the topic's new snapshot (in place: the entry keeps its matcher state) and swaps it in.
    /// `isChange` is false when only the matchers were compacted (the subscriptions are the same).
    func publishRoute(_ name: String, in reg: inout Registry, isChange: Bool = true) {
        guard let route = reg.topics[name]?.makeRoute(factory, isChange: isChange) else { return }
        if reg.topics[name]?.needsCompaction == true { reg.compactable.insert(name) }
        routes.withLock { $0[name] = route }
    }

    /// Drops stream subscriptions from their topics, rebuilding each touched topic once.
    func removeFromTopics(_ removed: [RemovedSubscription], in reg: inout Registry) {
        guard !removed.isEmpty else { return }
        var touched = Set<String>()
        for subscription in removed
        where reg.topics[subscription.topic]?.remove(subscriptionID: subscription.subscriptionID) == true {
            reg.subscriptionTotal -= 1
            touched.insert(subscription.topic)
        }
        for name in touched { publishRoute(name, in: &reg) }
    }

    /// Folds each churned topic's matcher tiers into one matcher (see `TopicEntry`), building it
    /// outside the registry lock so no subscriber waits for it; a plan a writer overtook is
    /// dropped and retried on the next call. Call it periodically (the server does, every 250 ms).
    /// Returns how many topics were compacted.
    @discardableResult
    public func compactRoutes() -> Int {
        let plans = registry.withLock { reg in
            var plans: [CompactionPlan] = []
            for name in reg.compactable {
                guard reg.topics[name]?.needsCompaction == true else {
                    reg.compactable.remove(name)
                    continue
                }
                if let plan = reg.topics[name]?.compactionPlan() { plans.append(plan) }
            }
            return plans
        }
        var compacted = 0
        for plan in plans {
            let matcher = factory.makeMatcher(plan.policies)
            registry.withLock { reg in
                guard reg.topics[plan.topic]?.applyCompaction(plan, matcher: matcher) == true else { return }
                compacted += 1
                publishRoute(plan.topic, in: &reg, isChange: false)
            }
        }
        return compacted
    }

    func validateIdentifier(_ text: String, what: String) throws(BrokerError) {
        guard !text.isEmpty, text.utf8.count <= limits.maxIdentifierBytes else {
            throw .invalidParameter("\(what) must be 1 to \(limits.maxIdentifierBytes) bytes")
        }
    }
}
