/// What a queue keeps per message: ids and times, never the body (the journal holds that, at
/// `position`). Kept small because a backlog of millions sits in memory: 5 × 8 + 3 × 4 bytes, a
/// 56-byte stride (QueueEntryTests measures it). The receipt nonce is `receiveCount` itself: it
/// changes on every receive and is persisted in the journal's visibility marks, so receipt handles
/// survive a restart.
public struct QueueEntry: Sendable, Hashable {
    /// The journal's entry id (store-wide, increasing in append order).
    public var entry: UInt64
    /// The journal's `LogPosition.packed`: opaque here.
    public var position: UInt64
    /// Original enqueue time (ms since 1970); retention counts from it, also in a dead-letter queue.
    public var sentAtMillis: Int64
    /// Not receivable before this time (delay, or the visibility timeout of the last receive).
    public var visibleAtMillis: Int64
    /// 0 until first received.
    public var firstReceiveAtMillis: Int64
    public var receiveCount: UInt32
    /// Body plus attributes, in bytes (checked against MaximumMessageSize).
    public var size: UInt32
    /// FIFO queues: the interned message group (`QueueCore` sets it); `noGroup` otherwise.
    public internal(set) var group: UInt32

    public static let noGroup = UInt32.max

    public init(
        entry: UInt64, position: UInt64, sentAtMillis: Int64, visibleAtMillis: Int64 = 0,
        firstReceiveAtMillis: Int64 = 0, receiveCount: UInt32 = 0, size: UInt32
    ) {
        self.entry = entry
        self.position = position
        self.sentAtMillis = sentAtMillis
        self.visibleAtMillis = visibleAtMillis
        self.firstReceiveAtMillis = firstReceiveAtMillis
        self.receiveCount = receiveCount
        self.size = size
        self.group = Self.noGroup
    }

    /// In flight at `now`: received, and its visibility timeout not yet over. (Never-received
    /// entries with a future `visibleAtMillis` are delayed instead.)
    func isInFlight(at now: Int64) -> Bool { receiveCount > 0 && visibleAtMillis > now }
}
