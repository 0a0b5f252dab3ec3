import FilterPolicy
import HeraldCore

/// Stream sessions: the calls a connection makes for its subscribers. A connection attaches once
/// (after authentication), uses the returned handle for every call, and detaches when it closes.
extension Broker {
    /// Attaches `sink` to a session on behalf of `owner`, the identity the connection
    /// authenticated as.
    ///
    /// - `requested` nil: a new session under a fresh broker-issued id (`SessionID.random()`,
    ///   128 random bits), owned by `owner`. Anonymous clients get sessions only this way.
    /// - `requested` names a session the registry holds: only its owner may attach. Detached
    ///   subscriptions whose window ended by `now` are expired first; the others stay detached
    ///   until the client subscribes again with the same sid. If another connection holds the
    ///   session it is taken over: its ack-mode subscriptions detach (for this one to resume), its
    ///   auto-ack ones are dropped, and its sink gets `disconnect(reason: .sessionTakenOver)`.
    /// - `requested` names no session: a named user gets a new session under that id; an anonymous
    ///   client is refused (`sessionNotIssued`).
    ///
    /// Refusals (`sessionOwnedByAnotherIdentity`, `sessionNotIssued`) change nothing: the session,
    /// its connection and its messages stay as they were.
    public func attachSession(
        _ requested: SessionID?, owner: SessionOwner, sink: any StreamSink, now: UInt64
    ) throws(BrokerError) -> StreamSessionHandle {
        if let requested { try validateIdentifier(requested.text, what: "session id") }
        let window = limits.resumeWindowNanoseconds
        let (handle, displaced, expired) = try registry.withLock {
            (reg: inout Registry) throws(BrokerError) -> (StreamSessionHandle, (any StreamSink)?, Int) in
            let id: SessionID
            var existing: StreamSessionCore?
            if let requested {
                id = requested
                existing = reg.sessions[id]
                if let existing, existing.owner != owner {
                    // Anonymous clients get one answer whatever the id names, so they learn nothing.
                    if owner == .anonymous { throw .sessionNotIssued(session: id.text) }
                    throw .sessionOwnedByAnotherIdentity(session: id.text)
                }
                if existing == nil, owner == .anonymous { throw .sessionNotIssued(session: id.text) }
            } else {
                var fresh = SessionID.random()
                while reg.sessions[fresh] != nil { fresh = SessionID.random() }
                id = fresh
            }
            if let core = existing, core.state.withLock({ $0.dead }) { existing = nil }  // a slow consumer's: gone
            let session = existing ?? StreamSessionCore(id: id, owner: owner)
            reg.sessions[id] = session
            let (epoch, removed, displaced, expired, retained) = session.state.withLock { st in
                let displaced = st.sink
                var removed = displaced == nil ? [] : st.detach(now: now, window: window)
                let expired = st.expireDetached(now: now)
                removed += expired
                st.epoch &+= 1
                st.sink = sink
                return (st.epoch, removed, displaced, expired.count, st.subscriptionCount > 0)
            }
            removeFromTopics(removed, in: &reg)
            let resumed = existing != nil && (displaced != nil || retained)
            return (StreamSessionHandle(id: id, resumed: resumed, core: session, epoch: epoch), displaced, expired)
        }
        counters.detachedExpired.add(expired)
        displaced?.disconnect(reason: .sessionTakenOver)
        return handle
    }

    /// The connection closed (at `now`). Auto-ack subscriptions are dropped; ack-mode ones detach
    /// with their unacked and queued messages for `resumeWindowNanoseconds`. A stale handle is a
    /// no-op.
    public func detachSession(_ handle: StreamSessionHandle, now: UInt64) {
        let window = limits.resumeWindowNanoseconds
        registry.withLock { reg in
            let (removed, empty) = handle.core.state.withLock { st in
                guard st.isCurrent(handle.epoch) else { return ([RemovedSubscription](), false) }
                return (st.detach(now: now, window: window), st.subscriptionCount == 0)
            }
            removeFromTopics(removed, in: &reg)
            if empty, reg.sessions[handle.id] === handle.core { reg.sessions.removeValue(forKey: handle.id) }
        }
        handle.core.clearCongestion()  // no publisher waits for a gone client
    }

    /// Drops every detached subscription whose resume window ended at or before `now`, and sessions
    /// left with nothing. Returns how many subscriptions expired. Call it periodically.
    @discardableResult
    public func expireDetached(now: UInt64) -> Int {
        let expired = registry.withLock { reg in
            var count = 0
            var gone: [SessionID] = []
            for (id, session) in reg.sessions {
                let (removed, empty) = session.state.withLock { st in
                    let removed = st.expireDetached(now: now)
                    return (removed, st.sink == nil && st.subscriptionCount == 0)
                }
                count += removed.count
                removeFromTopics(removed, in: &reg)
                if empty { gone.append(id) }
            }
            for id in gone { reg.sessions.removeValue(forKey: id) }
            return count
        }
        counters.detachedExpired.add(expired)
        return expired
    }

    /// Subscribes `sid` of the session to `topic`, or resumes it: when the session holds a
    /// detached subscription with this sid and the same topic, policy and ack mode, its unacked
    /// messages are redelivered first (flagged), then its queued ones, then new ones — as far as
    /// `credit` allows. A detached sid with a different topic/policy/mode is replaced (its
    /// messages dropped). `credit` (≥ 0) is clamped to `maxInFlight` (ack mode) or `maxCredit`.
    @discardableResult
    public func subscribe(
        _ handle: StreamSessionHandle, sid: UInt64, topic: String, policy: FilterPolicy?,
        ackMode: AckMode, credit: Int, tag: String? = nil
    ) throws(BrokerError) -> SubscribeOutcome {
        let request = SubscribeRequest(sid: sid, topic: topic, policy: policy, ackMode: ackMode, credit: credit, tag: tag)
        return try subscribe(handle, [request])[0].get()
    }

    /// Subscribes (or resumes, as `subscribe(_:sid:…)`) each request in order, under one registry
    /// lock: each touched topic's route is rebuilt once for the whole batch, so a client pipelining
    /// thousands of SUBs pays one rebuild per read batch, not one per SUB. Every subscription is
    /// live (its route swapped in) when this returns. One result per request, in order.
    public func subscribe(_ handle: StreamSessionHandle, _ requests: [SubscribeRequest]) -> [Result<SubscribeOutcome, BrokerError>] {
        var results: [Result<SubscribeOutcome, BrokerError>] = []
        results.reserveCapacity(requests.count)
        var delivered = 0
        registry.withLock { reg in
            var touched = Set<String>()
            for request in requests {
                do throws(BrokerError) {
                    let (outcome, count) = try subscribeLocked(handle, request, in: &reg, touched: &touched)
                    results.append(.success(outcome))
                    delivered += count
                } catch {
                    results.append(.failure(error))
                }
            }
            for name in touched { publishRoute(name, in: &reg) }
        }
        counters.streamDeliveries.add(delivered)
        return results
    }

    /// One subscribe of a batch (registry lock held); the caller publishes the `touched` routes.
    private func subscribeLocked(
        _ handle: StreamSessionHandle, _ request: SubscribeRequest, in reg: inout Registry, touched: inout Set<String>
    ) throws(BrokerError) -> (SubscribeOutcome, Int) {
        let (sid, topic, policy, ackMode, credit) = (request.sid, request.topic, request.policy, request.ackMode, request.credit)
        guard credit >= 0 else { throw .invalidParameter("credit must not be negative") }
        let limits = self.limits
        let topicExists = reg.topics[topic] != nil
        if !topicExists {
            guard options.autoCreateTopics else { throw .topicNotFound(topic: topic) }
            if let problem = TopicName.problem(in: topic) { throw .invalidParameter(problem) }
            guard reg.topics.count < limits.maxTopics else { throw .tooManyTopics(limit: limits.maxTopics) }
        }
        let topicCount = reg.topics[topic]?.subscriptionCount ?? 0
        let total = reg.subscriptionTotal
        let subscriptionID = reg.nextSubscriptionID
        let step = try handle.core.state.withLock { (st: inout SessionState) throws(BrokerError) -> SubscribeStep in
            guard st.isCurrent(handle.epoch) else { throw .sessionClosed }
            var replacing: StreamSubscriptionState?
            if let existing = st.subscription(sid: sid) {
                guard !existing.isAttached else { throw .duplicateSubscription(sid: sid) }
                if existing.topic == topic && existing.policy == policy && existing.ackMode == ackMode {
                    var out: [StreamDelivery] = []
                    let counts = try st.withDetached(sid: sid) { $0.resume(credit: credit, limits: limits, into: &out) }
                    return .resumed(redelivered: counts.redelivered, pending: counts.pending, delivered: st.flush(out))
                }
                replacing = existing
            }
            let sessionCount = st.subscriptionCount - (replacing == nil ? 0 : 1)
            guard sessionCount < limits.maxSubscriptionsPerSession else {
                throw .tooManySubscriptionsForSession(limit: limits.maxSubscriptionsPerSession)
            }
            let sameTopic = replacing?.topic == topic
            guard topicCount - (sameTopic ? 1 : 0) < limits.maxSubscriptionsPerTopic else {
                throw .tooManySubscriptionsForTopic(topic: topic, limit: limits.maxSubscriptionsPerTopic)
            }
            guard total - (replacing == nil ? 0 : 1) < limits.maxSubscriptions else {
                throw .tooManySubscriptions(limit: limits.maxSubscriptions)
            }
            let replaced = replacing == nil ? nil : st.remove(sid: sid)
            let state = StreamSubscriptionState(id: subscriptionID, sid: sid, topic: topic, policy: policy, ackMode: ackMode, tag: request.tag)
            state.grantCredit(credit, limits: limits)
            return .created(slot: st.insert(state), replaced: replaced)
        }
        switch step {
        case .resumed(let redelivered, let pending, let delivered):
            return (.resumed(redelivered: redelivered, pending: pending), delivered)
        case .created(let slot, let replaced):
            _ = reg.makeSubscriptionID()
            if let replaced, reg.topics[replaced.topic]?.remove(subscriptionID: replaced.subscriptionID) == true {
                reg.subscriptionTotal -= 1
                touched.insert(replaced.topic)
            }
            let target = RouteTarget(handle.core, slot: slot, subscriptionID: subscriptionID)
            let slotEntry = TopicSlot(subscriptionID: subscriptionID, policy: policy, target: target)
            reg.topics[topic, default: TopicEntry(name: topic, declared: false)].add(slotEntry)  // in place: no table copy
            reg.subscriptionTotal += 1
            touched.insert(topic)
            return (.created, 0)
        }
    }

    /// Sets the policy of every stream subscription (attached or detached) made with `tag` — a
    /// configuration subscription clients attach to by name — so a reload's new policy applies to
    /// the next message. Returns how many subscriptions changed.
    @discardableResult
    public func replacePolicy(_ policy: FilterPolicy?, forTag tag: String) -> Int {
        registry.withLock { reg in
            var touched = Set<String>()
            var changed = 0
            for session in reg.sessions.values {
                let updates = session.state.withLock { st -> [(UInt64, String)] in
                    var updates: [(UInt64, String)] = []
                    for case let subscription? in st.slots where subscription.tag == tag && subscription.policy != policy {
                        subscription.policy = policy
                        updates.append((subscription.id, subscription.topic))
                    }
                    return updates
                }
                for (id, topic) in updates {
                    reg.topics[topic]?.replacePolicy(subscriptionID: id, policy: policy)
                    touched.insert(topic)
                    changed += 1
                }
            }
            for name in touched { publishRoute(name, in: &reg) }
            return changed
        }
    }

    /// Gives the session's subscription `sid` a new filter policy (SNS SetSubscriptionAttributes
    /// FilterPolicy): it applies from the next message; queued and unacked messages stay.
    public func setPolicy(_ handle: StreamSessionHandle, sid: UInt64, policy: FilterPolicy?) throws(BrokerError) {
        try registry.withLock { (reg: inout Registry) throws(BrokerError) in
            let (id, topic) = try handle.core.state.withLock { (st: inout SessionState) throws(BrokerError) -> (UInt64, String) in
                guard st.isCurrent(handle.epoch) else { throw .sessionClosed }
                guard let subscription = st.subscription(sid: sid) else { throw .subscriptionNotFound(sid: sid) }
                subscription.policy = policy
                return (subscription.id, subscription.topic)
            }
            reg.topics[topic]?.replacePolicy(subscriptionID: id, policy: policy)
            publishRoute(topic, in: &reg)
        }
    }

    /// Removes the subscription (attached or detached) and everything it holds.
    public func unsubscribe(_ handle: StreamSessionHandle, sid: UInt64) throws(BrokerError) {
        try registry.withLock { (reg: inout Registry) throws(BrokerError) in
            let removed = try handle.core.state.withLock { (st: inout SessionState) throws(BrokerError) -> RemovedSubscription in
                guard st.isCurrent(handle.epoch) else { throw .sessionClosed }
                guard let removed = st.remove(sid: sid) else { throw .subscriptionNotFound(sid: sid) }
                return removed
            }
            removeFromTopics([removed], in: &reg)
        }
    }

    /// The session's sink drained what backed it up (`StreamSink.isBackedUp` is false again):
    /// publishers pacing on this session go on once its queues are low too.
    public func sinkDrained(_ handle: StreamSessionHandle) {
        let limits = self.limits
        let relieved = handle.core.state.withLock { st in
            st.isCurrent(handle.epoch) && handle.core.shouldRelieve(st, limits: limits)
        }
        if relieved { handle.core.clearCongestion() }
    }

    /// Grants `amount` (> 0) more credit (a CREDIT frame) and pushes queued messages it covers.
    public func addCredit(_ handle: StreamSessionHandle, sid: UInt64, _ amount: Int) throws(BrokerError) {
        guard amount > 0 else { throw .invalidParameter("credit must be positive") }
        let limits = self.limits
        let (delivered, relieved) = try handle.core.state.withLock { (st: inout SessionState) throws(BrokerError) -> (Int, Bool) in
            guard st.isCurrent(handle.epoch) else { throw .sessionClosed }
            var out: [StreamDelivery] = []
            try st.withAttached(sid: sid) { sub throws(BrokerError) in
                sub.grantCredit(amount, limits: limits)
                sub.drain(into: &out)
            }
            return (st.flush(out), handle.core.shouldRelieve(st, limits: limits))
        }
        if relieved { handle.core.clearCongestion() }
        counters.streamDeliveries.add(delivered)
    }

    /// Acks deliveries of an ack-mode subscription by tag: releases them, returns their credit and
    /// pushes queued messages it covers. Unknown tags are ignored (counted in
    /// `BrokerStats.unknownAckTags`); returns how many tags were in flight.
    @discardableResult
    public func ack(_ handle: StreamSessionHandle, sid: UInt64, tags: [UInt64]) throws(BrokerError) -> Int {
        let (acked, unknown, delivered, relieved) = try handle.core.state.withLock { (st: inout SessionState) throws(BrokerError) -> (Int, Int, Int, Bool) in
            guard st.isCurrent(handle.epoch) else { throw .sessionClosed }
            var out: [StreamDelivery] = []
            let counts = try st.withAttached(sid: sid) { sub throws(BrokerError) -> (acked: Int, unknown: Int) in
                guard sub.ackMode == .explicit else {
                    throw .invalidParameter("subscription \(sid) is auto-ack; it takes no acks")
                }
                let counts = sub.ack(tags)
                sub.drain(into: &out)
                return counts
            }
            return (counts.acked, counts.unknown, st.flush(out), handle.core.shouldRelieve(st, limits: limits))
        }
        if relieved { handle.core.clearCongestion() }
        counters.unknownAckTags.add(unknown)
        counters.streamDeliveries.add(delivered)
        return acked
    }

    /// A stream subscription's state (admin API, tests); nil when there is none.
    public func streamSubscriptionInfo(session id: SessionID, sid: UInt64) -> StreamSubscriptionInfo? {
        registry.withLock { reg in
            reg.sessions[id]?.state.withLock { $0.subscription(sid: sid)?.info }
        }
    }
}

/// What the session-locked part of `subscribe` decided.
enum SubscribeStep {
    case resumed(redelivered: Int, pending: Int, delivered: Int)
    case created(slot: Int, replaced: RemovedSubscription?)
}
