import HeraldCore
import Synchronization

/// The broker's side of one session id: its sink while a connection is attached, and the state of
/// every stream subscription it owns. One lock per session guards all of it; the publish path
/// takes it once per batch, and sinks are called while holding it (so a session's deliveries are
/// never reordered between concurrent publishers).
final class StreamSessionCore: Sendable {
    let id: SessionID
    /// The identity that created the session; only it may attach again.
    let owner: SessionOwner
    let state = Mutex(SessionState())
    /// Set by the publish path when a subscription's queue passed its backlog mark (a quarter of
    /// the pending bound); cleared once every queue is back under an eighth, or the session ends.
    /// Publishers read it without the lock to pace themselves (`PublishCongestion`).
    let congested = Atomic<Bool>(false)
    /// Publishers waiting for `congested` to clear (`PublishCongestion.whenRelieved`).
    let reliefWaiters = Mutex<[@Sendable () -> Void]>([])

    init(id: SessionID, owner: SessionOwner) {
        self.id = id
        self.owner = owner
    }
}

extension StreamSessionCore: DeliveryTarget {
    /// Queues or pushes the slice under the session lock (credit and pending bounds apply) and
    /// holds the messages from then on: the receipt is always `.done`. An overflow is reported in
    /// `effects` for the broker to act on.
    func accept(_ slice: DeliverySlice, effects: inout DeliveryEffects) -> DeliveryReceipt {
        // `congested` is raised under the session lock: a relief (`shouldRelieve`, also under it)
        // that came between this batch and the store would otherwise be lost, and the publisher
        // would wait out its whole pacing bound.
        let report = state.withLock { st in
            let report = st.deliver(slice)
            if report.backlogged { congested.store(true, ordering: .relaxed) }
            return report
        }
        effects.streamDeliveries += report.delivered
        if report.backlogged { effects.backlogged.append(self) }
        effects.droppedDormant += report.droppedDormant
        if let slow = report.slowConsumer { effects.slowConsumers.append((self, slow.sink, slow.removed)) }
        return .done
    }
}

/// A subscription the registry must drop from its topic.
struct RemovedSubscription: Sendable {
    let subscriptionID: UInt64
    let topic: String
}


/// What a session did with a publish batch; the broker acts on it after the session lock is gone.
struct SessionDeliveryReport: Sendable {
    var delivered = 0
    /// Some subscription's queue is past its backlog mark after this batch.
    var backlogged = false
    /// Detached subscriptions whose queue overflowed: dropped.
    var droppedDormant: [RemovedSubscription] = []
    /// Set when an attached subscription overflowed: the session is dead, every subscription gone.
    var slowConsumer: (sink: any StreamSink, removed: [RemovedSubscription])?
}

struct SessionState {
    var sink: (any StreamSink)?
    /// Bumped on every attach; handles from older attaches are stale.
    var epoch: UInt64 = 0
    /// Disconnected as a slow consumer; the registry drops it.
    var dead = false
    private(set) var table = SlotTable<StreamSubscriptionState>()
    private(set) var slotBySid: [UInt64: Int] = [:]

    /// Every subscription slot, empty ones as nil.
    var slots: [StreamSubscriptionState?] { table.elements }

    var subscriptionCount: Int { slotBySid.count }

    func isCurrent(_ epoch: UInt64) -> Bool { !dead && sink != nil && self.epoch == epoch }

    func subscription(sid: UInt64) -> StreamSubscriptionState? {
        guard let slot = slotBySid[sid] else { return nil }
        return table[slot]
    }

    mutating func insert(_ subscription: StreamSubscriptionState) -> Int {
        let slot = table.insert(subscription)
        slotBySid[subscription.sid] = slot
        return slot
    }

    mutating func remove(sid: UInt64) -> RemovedSubscription? {
        guard let slot = slotBySid.removeValue(forKey: sid), let subscription = table.remove(slot) else { return nil }
        return RemovedSubscription(subscriptionID: subscription.id, topic: subscription.topic)
    }

    /// Runs `body` on the attached subscription `sid`.
    func withAttached<R>(
        sid: UInt64, _ body: (StreamSubscriptionState) throws(BrokerError) -> R
    ) throws(BrokerError) -> R {
        try withSubscription(sid: sid, attached: true, body)
    }

    /// Runs `body` on the detached subscription `sid`.
    func withDetached<R>(
        sid: UInt64, _ body: (StreamSubscriptionState) throws(BrokerError) -> R
    ) throws(BrokerError) -> R {
        try withSubscription(sid: sid, attached: false, body)
    }

    private func withSubscription<R>(
        sid: UInt64, attached: Bool, _ body: (StreamSubscriptionState) throws(BrokerError) -> R
    ) throws(BrokerError) -> R {
        guard let subscription = subscription(sid: sid), subscription.isAttached == attached else {
            throw .subscriptionNotFound(sid: sid)
        }
        return try body(subscription)
    }

    /// Hands `deliveries` to the sink, if any. Called with the session lock held.
    func flush(_ deliveries: [StreamDelivery], soleHolder: Bool = false) -> Int {
        guard !deliveries.isEmpty, let sink else { return 0 }
        sink.deliver(deliveries, soleHolder: soleHolder)
        return deliveries.count
    }

    /// True when no attached subscription is above the backlog's low mark (publishers may go on).
    func backlogCleared(_ limits: BrokerLimits) -> Bool {
        if let sink, sink.isBackedUp { return false }
        for case let subscription? in slots where subscription.isAttached && !subscription.isBacklogCleared(limits) {
            return false
        }
        return true
    }

    /// Drops every subscription (slow consumer).
    mutating func removeAll() -> [RemovedSubscription] {
        var removed: [RemovedSubscription] = []
        for case let subscription? in table.elements {
            removed.append(RemovedSubscription(subscriptionID: subscription.id, topic: subscription.topic))
        }
        table.removeAll()
        slotBySid = [:]
        return removed
    }

    /// The connection went away: auto-ack subscriptions are dropped, ack-mode ones detach and keep
    /// their messages until `now + window`.
    mutating func detach(now: UInt64, window: UInt64) -> [RemovedSubscription] {
        sink = nil
        let (sum, overflow) = now.addingReportingOverflow(window)
        let deadline = overflow ? UInt64.max : sum
        var removed: [RemovedSubscription] = []
        for slot in table.elements.indices {
            guard let subscription = table[slot] else { continue }
            if subscription.ackMode == .auto {
                _ = table.remove(slot)
                slotBySid.removeValue(forKey: subscription.sid)
                removed.append(RemovedSubscription(subscriptionID: subscription.id, topic: subscription.topic))
            } else if subscription.isAttached {
                subscription.detach(until: deadline)
            }
        }
        return removed
    }

    /// Drops detached subscriptions whose deadline is at or before `now`.
    mutating func expireDetached(now: UInt64) -> [RemovedSubscription] {
        var expired: [UInt64] = []
        for case let subscription? in slots {
            if let deadline = subscription.detachedUntil, deadline <= now { expired.append(subscription.sid) }
        }
        return expired.compactMap { remove(sid: $0) }
    }

    /// One publish batch for this session. Pushes what credit allows, queues the rest, and calls
    /// the sink at most once.
    mutating func deliver(_ slice: DeliverySlice) -> SessionDeliveryReport {
        var report = SessionDeliveryReport()
        guard !dead else { return report }
        let (items, messages, limits) = (slice.items, slice.messages, slice.limits)
        let sinkAttached = sink != nil
        var out: [StreamDelivery] = []
        if sinkAttached { out.reserveCapacity(slice.count) }
        // The subscription of the previous item: a run of items for one slot (the usual case)
        // looks it up, and retains it, once instead of per item.
        var runSlot = -1
        var runSubscription: StreamSubscriptionState?
        for index in slice.range where index >= 0 && index < items.count {
            let item = items[index]
            if item.slot != runSlot {
                runSlot = item.slot
                runSubscription = table[item.slot]
            }
            // A stale route may name a removed subscription's slot, or a slot since reused.
            guard let subscription = runSubscription,
                  subscription.id == item.subscriptionID
            else { continue }
            if subscription.offer(
                messages[item.message], size: item.size, sinkAttached: sinkAttached, limits: limits, into: &out) {
                if !report.backlogged, sinkAttached, subscription.isBacklogged(limits) { report.backlogged = true }
                continue
            } else if sinkAttached && subscription.isAttached {
                dead = true
                if let sink { report.slowConsumer = (sink, removeAll()) }
                self.sink = nil
                return report
            } else {
                _ = table.remove(item.slot)
                runSubscription = nil  // the run's later items find it gone, as the table would say
                slotBySid.removeValue(forKey: subscription.sid)
                report.droppedDormant.append(
                    RemovedSubscription(subscriptionID: subscription.id, topic: subscription.topic))
            }
        }
        report.delivered = flush(out, soleHolder: slice.soleTarget)
        if !report.backlogged, report.delivered > 0, let sink, sink.isBackedUp { report.backlogged = true }
        return report
    }
}
