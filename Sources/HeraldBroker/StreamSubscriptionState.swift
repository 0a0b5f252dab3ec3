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

/// An unacked delivery (ack mode only).
struct InFlightEntry {
    var message: Message
    var size: Int
}

/// One stream subscription's flow-control state. A value kept inside its session's `SessionState`,
/// so it is only ever touched under that session's lock.
///
/// Credit: a delivery is pushed only while `credit > 0` and consumes one. In ack mode an ack gives
/// it back (credit + in-flight ≤ `maxInFlight`: credit is max-in-flight); in auto mode only
/// `grantCredit` (CREDIT frames) refills it (≤ `maxCredit`). Messages that find no credit wait in
/// `pending`, FIFO; a message that would overflow the pending bound is refused (`offer` → false)
/// and the caller applies the slow-consumer policy.
struct StreamSubscriptionState {
    let id: UInt64
    let sid: String
    let topic: String
    let policy: FilterPolicy?
    let ackMode: AckMode
    private(set) var credit = 0
    private var nextTag: UInt64 = 1
    private(set) var inFlight: [UInt64: InFlightEntry] = [:]
    private var pending = FIFOQueue<PendingEntry>()
    private(set) var pendingBytes = 0
    /// Queued redeliveries at the front of `pending`, and their bytes.
    private(set) var redeliveryCount = 0
    private var redeliveryBytes = 0
    /// nil while attached; while detached, the `now` value after which it expires.
    private(set) var detachedUntil: UInt64?

    init(id: UInt64, sid: String, topic: String, policy: FilterPolicy?, ackMode: AckMode) {
        self.id = id
        self.sid = sid
        self.topic = topic
        self.policy = policy
        self.ackMode = ackMode
    }

    var isAttached: Bool { detachedUntil == nil }
    var pendingCount: Int { pending.count }

    /// Adds `amount` (≥ 0) credit, clamped to the mode's ceiling.
    mutating func grantCredit(_ amount: Int, limits: BrokerLimits) {
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
    mutating func offer(
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

    /// Pushes queued messages while credit lasts.
    mutating func drain(into out: inout [StreamDelivery]) {
        while credit > 0, let entry = pending.popFirst() {
            pendingBytes -= entry.size
            if entry.redelivered {
                redeliveryCount -= 1
                redeliveryBytes -= entry.size
            }
            push(entry.message, size: entry.size, redelivered: entry.redelivered, into: &out)
        }
    }

    private mutating func push(_ message: Message, size: Int, redelivered: Bool, into out: inout [StreamDelivery]) {
        let tag = nextTag
        nextTag &+= 1
        credit -= 1
        if ackMode == .explicit {
            inFlight[tag] = InFlightEntry(message: message, size: size)
        }
        out.append(StreamDelivery(sid: sid, deliveryTag: tag, redelivered: redelivered, message: message))
    }

    /// Releases the named in-flight deliveries and returns their credit. Unknown tags (already
    /// acked, from before a resume, never sent) are ignored and counted.
    mutating func ack(_ tags: [UInt64]) -> (acked: Int, unknown: Int) {
        var acked = 0
        for tag in tags where inFlight.removeValue(forKey: tag) != nil { acked += 1 }
        credit += acked
        return (acked, tags.count - acked)
    }

    /// The session went away: unacked deliveries go back to the front of the queue, in their
    /// original order, flagged for redelivery; credit is void until the client subscribes again.
    mutating func detach(until deadline: UInt64) {
        let unacked = inFlight.sorted { $0.key < $1.key }
        inFlight = [:]
        var entries: [PendingEntry] = []
        entries.reserveCapacity(unacked.count)
        for (_, entry) in unacked {
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
    mutating func resume(credit amount: Int, limits: BrokerLimits, into out: inout [StreamDelivery]) -> (redelivered: Int, pending: Int) {
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
