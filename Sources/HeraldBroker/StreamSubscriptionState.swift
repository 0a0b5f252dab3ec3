import FilterPolicy
import HeraldCore

/// A message waiting for credit. `redelivered` entries came back from in-flight when the session
/// detached; they sit at the front and do not count against the pending bound (they are bounded by
/// `maxInFlight` already).
struct PendingEntry {
    var message: Message
    var size: Int
    var redelivered: Bool
}

/// One stream subscription's flow-control state. Owned by its session's `SessionState` (inside
/// that session's `Mutex`) and never handed out of it, so it is only ever touched under that lock;
/// a class so the publish path mutates it in place instead of moving it in and out of its slot.
///
/// Credit: a delivery is pushed only while `credit > 0` and consumes one. In ack mode an ack gives
/// it back (credit + in-flight ≤ `maxInFlight`: credit is max-in-flight); in auto mode only
/// `grantCredit` (CREDIT frames) refills it (≤ `maxCredit`). Messages that find no credit wait in
/// `pending`, FIFO; a message that would overflow the pending bound is refused (`offer` → false)
/// and the caller applies the slow-consumer policy.
final class StreamSubscriptionState {
    let id: UInt64
    let sid: UInt64
    let topic: String
    /// Replaced in place when the configuration subscription it was made from changes (`tag`).
    var policy: FilterPolicy?
    /// The configuration-declared subscription this one attached to by name, if any.
    let tag: String?
    let ackMode: AckMode
    // Only touched under the owning session's lock, once or more per delivery: the run-time
    // exclusivity checks on these fields cost ≈ 2 % of a fan-out and can catch nothing here.
    @exclusivity(unchecked) private(set) var credit = 0
    @exclusivity(unchecked) private var nextTag: UInt64 = 1
    @exclusivity(unchecked) private(set) var inFlight = InFlightLog()
    @exclusivity(unchecked) private var pending = FIFOQueue<PendingEntry>()
    @exclusivity(unchecked) private(set) var pendingBytes = 0
    /// Queued redeliveries at the front of `pending`, and their bytes.
    @exclusivity(unchecked) private(set) var redeliveryCount = 0
    @exclusivity(unchecked) private var redeliveryBytes = 0
    /// nil while attached; while detached, the `now` value after which it expires.
    @exclusivity(unchecked) private(set) var detachedUntil: UInt64?

    init(id: UInt64, sid: UInt64, topic: String, policy: FilterPolicy?, ackMode: AckMode, tag: String? = nil) {
        self.id = id
        self.sid = sid
        self.topic = topic
        self.policy = policy
        self.ackMode = ackMode
        self.tag = tag
    }

    var isAttached: Bool { detachedUntil == nil }
    var pendingCount: Int { pending.count }

    /// Adds `amount` (≥ 0) credit, clamped to the mode's ceiling.
    func grantCredit(_ amount: Int, limits: BrokerLimits) {
        let ceiling: Int
        switch ackMode {
        case .auto: ceiling = limits.maxCredit
        case .explicit: ceiling = max(0, limits.maxInFlight - inFlight.count)
        }
        credit = amount >= ceiling - credit ? max(credit, ceiling) : credit + amount
    }

    /// A newly published message: pushed into `out` if credit allows and nothing waits ahead of
    /// it, else queued. False when queueing would exceed the pending bound (nothing changed).
    /// `size` is the message's `retainedBytes`, computed once per message by the publish path.
    func offer(
        _ message: Message, size: Int, sinkAttached: Bool, limits: BrokerLimits, into out: inout [StreamDelivery]
    ) -> Bool {
        if sinkAttached, detachedUntil == nil, credit > 0, pending.isEmpty {
            push(message, size: size, redelivered: false, into: &out)
            return true
        }
        guard pending.count - redeliveryCount < limits.maxPendingMessages,
              size <= limits.maxPendingBytes - (pendingBytes - redeliveryBytes)
        else { return false }
        pending.append(PendingEntry(message: message, size: size, redelivered: false))
        pendingBytes += size
        return true
    }

    /// Queued (not redelivered) messages passed a quarter of the pending bound, by count or bytes:
    /// publishers should slow down before the bound itself disconnects this subscriber.
    func isBacklogged(_ limits: BrokerLimits) -> Bool {
        pending.count - redeliveryCount > limits.maxPendingMessages / 4
            || pendingBytes - redeliveryBytes > limits.maxPendingBytes / 4
    }

    /// The backlog fell back under an eighth of the bound.
    func isBacklogCleared(_ limits: BrokerLimits) -> Bool {
        pending.count - redeliveryCount <= limits.maxPendingMessages / 8
            && pendingBytes - redeliveryBytes <= limits.maxPendingBytes / 8
    }

    /// Pushes queued messages while credit lasts.
    func drain(into out: inout [StreamDelivery]) {
        while credit > 0, let entry = pending.popFirst() {
            pendingBytes -= entry.size
            if entry.redelivered {
                redeliveryCount -= 1
                redeliveryBytes -= entry.size
            }
            push(entry.message, size: entry.size, redelivered: entry.redelivered, into: &out)
        }
    }

    private func push(_ message: Message, size: Int, redelivered: Bool, into out: inout [StreamDelivery]) {
        let tag = nextTag
        nextTag &+= 1
        credit -= 1
        if ackMode == .explicit {
            inFlight.append(tag: tag, message: message, size: size)
        }
        out.append(StreamDelivery(sid: sid, deliveryTag: tag, redelivered: redelivered, message: message))
    }

    /// Releases the named in-flight deliveries and returns their credit. Unknown tags (already
    /// acked, from before a resume, never sent) are ignored and counted.
    func ack(_ tags: [UInt64]) -> (acked: Int, unknown: Int) {
        var acked = 0
        for tag in tags where inFlight.remove(tag: tag) { acked += 1 }
        credit += acked
        return (acked, tags.count - acked)
    }

    /// The session went away: unacked deliveries go back to the front of the queue, in their
    /// original order, flagged for redelivery; credit is void until the client subscribes again.
    func detach(until deadline: UInt64) {
        let unacked = inFlight.removeAll()
        var entries: [PendingEntry] = []
        entries.reserveCapacity(unacked.count)
        for entry in unacked {
            entries.append(PendingEntry(message: entry.message, size: entry.size, redelivered: true))
            redeliveryBytes += entry.size
            pendingBytes += entry.size
        }
        redeliveryCount += entries.count
        pending.prepend(contentsOf: entries)
        credit = 0
        detachedUntil = deadline
    }

    /// The client subscribed again with the same sid: redeliveries first, then queued messages.
    /// Returns how many of each were queued when it resumed.
    func resume(credit amount: Int, limits: BrokerLimits, into out: inout [StreamDelivery]) -> (redelivered: Int, pending: Int) {
        let counts = (redeliveryCount, pending.count - redeliveryCount)
        detachedUntil = nil
        grantCredit(amount, limits: limits)
        drain(into: &out)
        return counts
    }

    var info: StreamSubscriptionInfo {
        StreamSubscriptionInfo(
            sid: sid, topic: topic, policy: policy, ackMode: ackMode, credit: credit,
            inFlight: inFlight.count, pending: pending.count, pendingBytes: pendingBytes,
            detachedUntil: detachedUntil)
    }
}
