/// The small records `QueueCore` keeps beside its entries.

/// A received message while its visibility timeout runs. Standard queues keep the entry only here;
/// FIFO queues also keep it, in place, in its group (this copy and that one are kept equal).
struct InFlight: Sendable {
    var entry: QueueEntry
    /// When this receive happened: the 12-hour visibility cap counts from it.
    var receivedAt: Int64
}

/// A standard queue's delayed entry, ordered by the time it becomes visible.
struct DelayedSlot: HeapTimed, Sendable {
    var entry: QueueEntry
    var heapTime: Int64 { entry.visibleAtMillis }
    static func < (a: Self, b: Self) -> Bool { (a.entry.visibleAtMillis, a.entry.entry) < (b.entry.visibleAtMillis, b.entry.entry) }
    static func == (a: Self, b: Self) -> Bool { a.entry.entry == b.entry.entry && a.entry.visibleAtMillis == b.entry.visibleAtMillis }
}

/// The end of one receive's (or visibility change's) timeout. Stale once the entry is deleted,
/// re-received or its visibility changed again: valid only while the in-flight record still has
/// this time and receive count.
struct VisibilityTimer: HeapTimed, Sendable {
    var heapTime: Int64
    var entry: UInt64
    var receiveCount: UInt32
    static func < (a: Self, b: Self) -> Bool { (a.heapTime, a.entry) < (b.heapTime, b.entry) }
}

/// A FIFO delayed entry's visible time (for the Delayed count and `nextChange`).
struct DelayTime: HeapTimed, Sendable {
    var heapTime: Int64
    static func < (a: Self, b: Self) -> Bool { a.heapTime < b.heapTime }
}

/// A FIFO group slot; the generation tells a reference to a freed and reused slot from a live one.
struct GroupRef: Hashable, Sendable {
    var index: UInt32
    var generation: UInt32
}

/// A FIFO group whose head becomes visible at `heapTime`.
struct GroupTimer: HeapTimed, Sendable {
    var heapTime: Int64
    var group: GroupRef
    static func < (a: Self, b: Self) -> Bool { (a.heapTime, a.group.index) < (b.heapTime, b.group.index) }
    static func == (a: Self, b: Self) -> Bool { a.heapTime == b.heapTime && a.group == b.group }
}

/// One FIFO message group: its messages in send order, in-flight ones included (they are always
/// its first messages, so order holds across visibility expiry). The group is *blocked* while
/// `inFlight > 0`; otherwise, if it has messages, it is *scheduled*: in the ready ring, or in the
/// waiting heap while its head is delayed.
struct MessageGroup: Sendable {
    var name: String
    var messages = RingDeque<QueueEntry>()
    var inFlight = 0
    var generation: UInt32 = 0
    var scheduled = false
    var live = true
}

/// A FIFO deduplication id's first sighting.
struct DedupRecord: Sendable {
    var messageID: String
    var at: Int64
}

struct DedupOrder: Sendable {
    var id: String
    var at: Int64
}
