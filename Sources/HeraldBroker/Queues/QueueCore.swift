import HeraldCore

/// One SQS queue's state machine: which messages are visible, delayed or in flight, receipt
/// handles, redrive to a dead-letter queue, retention, purge and FIFO groups and deduplication.
///
/// Contract:
/// - Pure: no I/O, no clock, no locks, no Dispatch. Time comes in as `now` (ms since 1970) and must
///   not go backwards between calls on one core. Every mutating call first lets `now` take effect
///   (delays and visibility timeouts that ran out make their messages visible).
/// - Owned by the queue manager, which calls it under its own lock from any thread, journals what
///   the results say (enqueue, visibility marks for received/changed entries, deletes, dead-letter
///   moves, expiries, purges), parks long-poll waiters (`hasVisible`, `nextChange`) and runs the timer
///   that calls `expire`.
/// - Bodies live in the journal; a `QueueEntry` names one by `entry`/`position`.
/// - Standard: visible entries in a ring deque (received oldest-visible-first, best effort; an entry
///   whose visibility ran out joins the back), delayed in a min-heap, in flight in a dictionary with
///   a timer heap. FIFO: per-group deques, a ring of ready groups, a heap of groups whose head is
///   delayed (QueueCore+FIFO.swift).
/// - Receipt handles: `ReceiptHandle`. Deletes must use the latest handle. Standard: a stale handle,
///   or one for a message already gone, succeeds without deleting (nil), as SQS's documentation
///   allows; a latest handle whose timeout just ran out still deletes while the message is among the
///   last `staleDeleteWindow` visible ones. FIFO: a handle whose timeout ran out is "The receipt
///   handle has expired."; repeating a delete that succeeded succeeds (nil).
public struct QueueCore: Sendable {
    public static let standardInFlightLimit = 120_000
    public static let fifoInFlightLimit = 20_000
    public static let deduplicationWindowMillis: Int64 = 300_000
    public static let purgeIntervalMillis: Int64 = 60_000
    public static let maxVisibilityMillis: Int64 = 43_200_000
    /// How far back from the visible deque's end a delete looks for a message whose timeout ran out.
    static let staleDeleteWindow = 4096
    /// How many successful FIFO deletes are remembered, so a repeated delete succeeds.
    static let recentDeleteMemory = 4096

    public let name: String
    public let isFIFO: Bool
    public let inFlightLimit: Int
    let queueTag: UInt32
    /// SetQueueAttributes. A DelaySeconds change is retroactive on FIFO queues (never-received
    /// messages now wait sentAt + the new delay), not on standard ones. `fifo` cannot change.
    public var attributes: QueueAttributes {
        didSet { if isFIFO && attributes.delaySeconds != oldValue.delaySeconds { reapplyFIFODelay() } }
    }

    // Standard queues.
    var visible = RingDeque<QueueEntry>()
    /// Retention bookkeeping for `visible` (QueueCore+Retention.swift).
    var visibleMaxSent = Int64.min
    var visibleOutOfOrderMinSent = Int64.max
    var delayed = MinHeap<DelayedSlot>()
    var delayedMinSent = Int64.max

    // Both kinds.
    var inFlight: [UInt64: InFlight] = [:]
    var inFlightMinSent = Int64.max
    var timers = MinHeap<VisibilityTimer>()
    var lastPurgeAt: Int64?

    // FIFO queues.
    var groups: [MessageGroup] = []
    var groupByName: [String: UInt32] = [:]
    var freeGroups: [UInt32] = []
    var ready = RingDeque<GroupRef>()
    var waiting = MinHeap<GroupTimer>()
    var delayTimes = MinHeap<DelayTime>()
    var fifoStored = 0
    var fifoMinSent = Int64.max
    var dedup: [String: DedupRecord] = [:]
    var dedupOrder = RingDeque<DedupOrder>()
    var recentDeletes: Set<ReceiptHandle> = []
    var recentDeleteOrder = RingDeque<ReceiptHandle>()

    /// `inFlightLimit` nil: SQS's (120,000 standard, 20,000 FIFO); tests pass small ones.
    public init(name: String, attributes: QueueAttributes, inFlightLimit: Int? = nil) {
        self.name = name
        self.attributes = attributes
        isFIFO = attributes.fifo
        self.inFlightLimit = inFlightLimit ?? (attributes.fifo ? Self.fifoInFlightLimit : Self.standardInFlightLimit)
        queueTag = ReceiptHandle.queueTag(for: name)
    }

    // MARK: Sending

    /// Adds a message. Call it before or after the journal write (the manager's choice); on
    /// `.duplicate` nothing was added. `delaySeconds` nil: the queue's delay. FIFO: `groupID` is
    /// required and `deduplicationID` too — when the queue has ContentBasedDeduplication the caller
    /// passes the lower-case hex SHA-256 of the body (hashing is not this type's). The entry's
    /// receive state starts afresh (a dead-letter move re-enqueues with the original sentAt).
    /// A manager that journals first asks `duplicateOf` before writing, so a duplicate is never
    /// written.
    public mutating func enqueue(
        _ entry: QueueEntry, messageID: String, groupID: String?, deduplicationID: String?, delaySeconds: Int?, now: Int64
    ) throws(HeraldError) -> EnqueueOutcome {
        guard Int(entry.size) <= attributes.maximumMessageSize else { throw QueueErrors.messageTooLong(attributes.maximumMessageSize) }
        var fresh = entry
        fresh.receiveCount = 0
        fresh.firstReceiveAtMillis = 0
        fresh.group = QueueEntry.noGroup
        if isFIFO {
            if let delaySeconds { throw QueueErrors.notForQueueType("DelaySeconds", String(delaySeconds)) }
            guard let groupID else { throw QueueErrors.missingGroupID }
            try Self.validateFIFOID("MessageGroupId", groupID)
            guard let deduplicationID else { throw QueueErrors.missingDeduplication }
            try Self.validateFIFOID("MessageDeduplicationId", deduplicationID)
            advance(now)
            if let original = duplicateOf(deduplicationID: deduplicationID, now: now) { return .duplicate(originalMessageID: original) }
            rememberDeduplication(deduplicationID, messageID: messageID, at: now)
            fresh.visibleAtMillis = entry.sentAtMillis + Int64(attributes.delaySeconds) * 1000
            placeFIFO(fresh, groupID: groupID, now: now)
        } else {
            if let deduplicationID { throw QueueErrors.notForQueueType("MessageDeduplicationId", deduplicationID) }
            let delay = delaySeconds ?? attributes.delaySeconds
            guard QueueAttributes.delaySecondsRange.contains(delay) else { throw QueueErrors.delaySeconds(delay) }
            advance(now)
            fresh.visibleAtMillis = now + Int64(delay) * 1000
            placeStandard(fresh, receivedAt: now, now: now)
        }
        return .enqueued
    }

    /// FIFO: the message id first sent with this deduplication id, if that was less than 5 minutes
    /// before `now` (the window is [first, first + 5 min)).
    public func duplicateOf(deduplicationID: String, now: Int64) -> String? {
        guard let record = dedup[deduplicationID], now - record.at < Self.deduplicationWindowMillis else { return nil }
        return record.messageID
    }

    // MARK: Receiving, deleting, visibility

    /// ReceiveMessage (the manager waits for long polls). `max` 1...10; `visibilityTimeout` nil: the
    /// queue's. Standard queues at their in-flight limit throw OverLimit; FIFO queues return less.
    public mutating func receive(max: Int, visibilityTimeout: Int?, now: Int64) throws(HeraldError) -> ReceiveOutcome {
        guard (1...10).contains(max) else { throw QueueErrors.maxNumberOfMessages(max) }
        let timeout = visibilityTimeout ?? attributes.visibilityTimeout
        guard QueueAttributes.visibilityTimeoutRange.contains(timeout) else { throw QueueErrors.visibilityTimeout(timeout) }
        advance(now)
        if isFIFO { return receiveFIFO(max: max, timeoutMillis: Int64(timeout) * 1000, now: now) }
        guard inFlight.count < inFlightLimit else { throw QueueErrors.overLimit(inFlightLimit) }
        return receiveStandard(max: max, timeoutMillis: Int64(timeout) * 1000, now: now)
    }

    /// DeleteMessage: the removed entry, or nil when nothing was deleted though SQS answers success
    /// (see the type's contract).
    public mutating func delete(receiptHandle text: String, now: Int64) throws(HeraldError) -> QueueEntry? {
        let handle = try parseHandle(text)
        advance(now)
        if let record = inFlight[handle.entry], record.entry.receiveCount == handle.receiveCount {
            inFlight[handle.entry] = nil
            if isFIFO {
                _ = removeFromGroup(record.entry, wasInFlight: true)
                rememberDelete(handle)
            }
            return record.entry
        }
        if isFIFO {
            if recentDeletes.contains(handle) { return nil }
            throw QueueErrors.receiptHandleExpired(text)
        }
        return removeRecentlyVisible(handle)
    }

    /// ChangeMessageVisibility: the message becomes visible `timeout` seconds from `now` (0: at once),
    /// within 12 hours of the receive that issued the handle.
    public mutating func changeVisibility(receiptHandle text: String, timeout: Int, now: Int64) throws(HeraldError) -> VisibilityChange {
        guard QueueAttributes.visibilityTimeoutRange.contains(timeout) else { throw QueueErrors.visibilityTimeout(timeout) }
        let handle = try parseHandle(text)
        advance(now)
        guard var record = inFlight[handle.entry], record.entry.receiveCount == handle.receiveCount else {
            throw QueueErrors.messageNotInflight
        }
        let visibleAt = now + Int64(timeout) * 1000
        guard visibleAt - record.receivedAt <= Self.maxVisibilityMillis else { throw QueueErrors.visibilityBeyondLimit(timeout) }
        record.entry.visibleAtMillis = visibleAt
        inFlight[handle.entry] = record
        if isFIFO { syncGroupCopy(record.entry) }
        timers.push(VisibilityTimer(heapTime: visibleAt, entry: handle.entry, receiveCount: handle.receiveCount))
        advance(now)
        return VisibilityChange(entry: record.entry)
    }

    // MARK: Looking

    public func counts(now: Int64) -> QueueCounts {
        let dueInFlight = dueInFlightEntries(now: now).count
        let inFlightNow = inFlight.count - dueInFlight
        if isFIFO {
            var dueDelays = 0
            delayTimes.forEach(dueBy: now) { _ in dueDelays += 1 }
            let delayedNow = delayTimes.count - dueDelays
            return QueueCounts(visible: fifoStored - inFlightNow - delayedNow, inFlight: inFlightNow, delayed: delayedNow)
        }
        var dueDelayed = 0
        delayed.forEach(dueBy: now) { _ in dueDelayed += 1 }
        return QueueCounts(visible: visible.count + dueDelayed + dueInFlight, inFlight: inFlightNow, delayed: delayed.count - dueDelayed)
    }

    /// Whether a receive at `now` would return something (a long poll may answer). FIFO: only
    /// messages at the head of an unblocked group count.
    public func hasVisible(now: Int64) -> Bool {
        if !isFIFO { return counts(now: now).visible > 0 }
        if !dueInFlightEntries(now: now).isEmpty { return true }
        if let next = waiting.min, next.heapTime <= now { return true }
        var found = false
        ready.forEach { ref in
            if !found, let group = currentGroup(ref), group.scheduled, group.inFlight == 0,
                let head = group.messages.first, head.visibleAtMillis <= now
            {
                found = true
            }
        }
        return found
    }

    public var isEmpty: Bool { storedCount == 0 }

    /// Messages held (visible, delayed and in flight).
    public var storedCount: Int { isFIFO ? fifoStored : visible.count + delayed.count + inFlight.count }

    /// The earliest time a delayed or in-flight message may become visible, for the manager's
    /// long-poll timer; nil when nothing waits. May be early (a stale timer), never late. A result
    /// at or before `now` means something is due already.
    public func nextChange(after now: Int64) -> Int64? {
        let candidates = [delayed.min?.heapTime, timers.min?.heapTime, waiting.min?.heapTime, delayTimes.min?.heapTime]
        return candidates.compactMap { $0 }.min()
    }

    /// Every entry held, in no particular order (compaction carries them forward).
    public func forEachEntry(_ body: (QueueEntry) -> Void) {
        if isFIFO {
            for group in groups where group.live { group.messages.forEach(body) }
            return
        }
        visible.forEach(body)
        for slot in delayed.elements { body(slot.entry) }
        for record in inFlight.values { body(record.entry) }
    }

    public func entries() -> [QueueEntry] {
        var all: [QueueEntry] = []
        all.reserveCapacity(storedCount)
        forEachEntry { all.append($0) }
        return all
    }

    // MARK: Shared internals

    func parseHandle(_ text: String) throws(HeraldError) -> ReceiptHandle {
        let handle = try ReceiptHandle(parsing: text)
        guard handle.queueTag == queueTag else { throw QueueErrors.receiptHandleInvalid(text) }
        return handle
    }

    func handleText(_ entry: QueueEntry) -> String {
        ReceiptHandle(entry: entry.entry, receiveCount: entry.receiveCount, queueTag: queueTag).text
    }

    /// The entry after one more receive with a timeout of `timeoutMillis`.
    static func received(_ entry: QueueEntry, timeoutMillis: Int64, now: Int64) -> QueueEntry {
        var next = entry
        next.receiveCount = entry.receiveCount == .max ? .max : entry.receiveCount + 1
        if next.firstReceiveAtMillis == 0 { next.firstReceiveAtMillis = now }
        next.visibleAtMillis = now + timeoutMillis
        return next
    }

    /// The in-flight entries whose timeout is over by `now` (valid timers only).
    func dueInFlightEntries(now: Int64) -> Set<UInt64> {
        var due: Set<UInt64> = []
        timers.forEach(dueBy: now) { timer in
            if let record = inFlight[timer.entry], record.entry.receiveCount == timer.receiveCount,
                record.entry.visibleAtMillis == timer.heapTime
            {
                due.insert(timer.entry)
            }
        }
        return due
    }

    /// Lets `now` take effect: timeouts that ran out end, delays that ran out end.
    mutating func advance(_ now: Int64) {
        while let timer = timers.popDue(by: now) {
            guard let record = inFlight[timer.entry], record.entry.receiveCount == timer.receiveCount,
                record.entry.visibleAtMillis == timer.heapTime
            else { continue }
            inFlight[timer.entry] = nil
            if isFIFO { releaseFromFlight(record.entry) } else { appendVisible(record.entry) }
        }
        if isFIFO {
            advanceFIFO(now)
        } else {
            while let slot = delayed.popDue(by: now) { appendVisible(slot.entry) }
        }
    }

    mutating func putInFlight(_ entry: QueueEntry, receivedAt: Int64) {
        inFlight[entry.entry] = InFlight(entry: entry, receivedAt: receivedAt)
        inFlightMinSent = Swift.min(inFlightMinSent, entry.sentAtMillis)
        timers.push(VisibilityTimer(heapTime: entry.visibleAtMillis, entry: entry.entry, receiveCount: entry.receiveCount))
    }

    /// FIFO ids: 1–128 characters, each an ASCII letter, digit or punctuation mark.
    static func validateFIFOID(_ parameter: String, _ value: String) throws(HeraldError) {
        let utf8 = value.utf8
        guard (1...128).contains(utf8.count), utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw QueueErrors.badFIFOID(parameter, value)
        }
    }
}
