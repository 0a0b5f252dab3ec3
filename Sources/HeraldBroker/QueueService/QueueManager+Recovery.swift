import HeraldCore
import HeraldStore

/// What `QueueManager.open()` rebuilt from the store.
public struct QueueRecoveryReport: Sendable, Hashable, CustomStringConvertible {
    public var queues = 0
    public var messages = 0
    public var inFlight = 0
    /// Metadata records that could not be read back (named, not fatal).
    public var problems: [String] = []

    public var description: String {
        "\(queues) queue\(queues == 1 ? "" : "s"), \(messages) message\(messages == 1 ? "" : "s") (\(inFlight) in flight)"
            + (problems.isEmpty ? "" : "; skipped: " + problems.joined(separator: "; "))
    }
}

/// One stored message while the log is folded at start-up: what `restore` needs, and its state in
/// each queue that still holds it.
private struct ReplayEntry {
    let position: LogPosition
    let messageID: String
    let sentAtMillis: Int64
    let size: UInt32
    let groupID: String?
    let deduplicationID: String?
    var states: ReplayStates
}

/// An entry's state per queue while folding: inline for the usual single queue, a dictionary only
/// for a message fanned out to several (a dictionary per message was most of a replay's
/// allocations).
private enum ReplayStates {
    case one(UInt32, VisibilityMark)
    case many([UInt32: VisibilityMark])
    case none

    /// Sets (adds or replaces) the state in `queue`.
    mutating func set(_ queue: UInt32, _ mark: VisibilityMark) {
        switch self {
        case .none: self = .one(queue, mark)
        case .one(let held, let old): self = held == queue ? .one(queue, mark) : .many([held: old, queue: mark])
        case .many(var map):
            self = .none  // drop the enum's reference so the dictionary is mutated in place
            map[queue] = mark
            self = .many(map)
        }
    }

    var isEmpty: Bool {
        switch self {
        case .none: return true
        case .one: return false
        case .many(let map): return map.isEmpty
        }
    }

    var count: Int {
        switch self {
        case .none: return 0
        case .one: return 1
        case .many(let map): return map.count
        }
    }

    func holds(_ queue: UInt32) -> Bool {
        switch self {
        case .none: return false
        case .one(let held, _): return held == queue
        case .many(let map): return map[queue] != nil
        }
    }

    /// Replaces the state in `queue` if the entry is there.
    mutating func update(_ queue: UInt32, _ mark: VisibilityMark) {
        switch self {
        case .none: break
        case .one(let held, _): if held == queue { self = .one(queue, mark) }
        case .many(var map):
            guard map[queue] != nil else { return }
            self = .none  // drop the enum's reference so the dictionary is mutated in place
            map[queue] = mark
            self = .many(map)
        }
    }

    mutating func remove(_ queue: UInt32) {
        switch self {
        case .none: break
        case .one(let held, _): if held == queue { self = .none }
        case .many(var map):
            self = .none
            map.removeValue(forKey: queue)
            self = .many(map)
        }
    }

    /// Whether `predicate` holds for a queue holding the entry (without building `all`).
    func anyQueue(_ predicate: (UInt32) -> Bool) -> Bool {
        switch self {
        case .none: return false
        case .one(let queue, _): return predicate(queue)
        case .many(let map): return map.keys.contains(where: predicate)
        }
    }

    func forEach(_ body: (UInt32, VisibilityMark) -> Void) {
        switch self {
        case .none: break
        case .one(let queue, let mark): body(queue, mark)
        case .many(let map): for (queue, mark) in map { body(queue, mark) }
        }
    }
}

extension QueueManager {
    /// Rebuilds every queue from the store: queues from the metadata, then every record in log
    /// order (a `.message` record replaces what an older copy of the same entry said). Call once,
    /// before anything else.
    public func open() throws(StoreError) -> QueueRecoveryReport {
        let now = clock()
        var report = QueueRecoveryReport()
        var queues: [UInt32: QueueSlot] = [:]
        var ids: [String: UInt32] = [:]
        var nextQueueID: UInt32 = 1
        for (key, value, _) in store.snapshot(prefix: QueueRecord.prefix) {
            guard let record = QueueRecord(decoding: value) else {
                report.problems.append("unreadable queue record \(key)")
                continue
            }
            let attributes: QueueAttributes
            do throws(HeraldError) {
                // Not `init(sqsAttributes:queueName:)`: the server's own queues have names users may not use.
                attributes = try QueueAttributes(fifo: record.attributes["FifoQueue"] == "true").applying(record.attributes)
            } catch {
                report.problems.append("queue \(record.name): \(error.message)")
                continue
            }
            ids[record.name] = record.id
            queues[record.id] = QueueSlot(
                id: record.id, name: record.name, core: QueueCore(name: record.name, attributes: attributes),
                createdAtMillis: record.createdAtMillis, lastModifiedAtMillis: record.createdAtMillis)
            nextQueueID = max(nextQueueID, record.id + 1)
        }

        // Fold the log into each entry's final state first, then restore the survivors once:
        // a queue's `remove` of a message that is not in flight scans the queue, so applying
        // deletes and marks one by one to the queues would be quadratic.
        var folded: [UInt64: ReplayEntry] = [:]
        var nextEntry: UInt64 = 1
        /// FIFO deduplication ids of messages deleted less than the window ago: SQS keeps tracking
        /// an id after its message is gone, and so does a restart (queue, id, message id, sent at).
        var recentlyDeleted: [(queue: UInt32, id: String, messageID: String, at: Int64)] = []
        func drop(_ entry: UInt64, from queue: UInt32) {
            guard var replay = folded[entry], replay.states.holds(queue) else { return }
            if let id = replay.deduplicationID, now - replay.sentAtMillis < QueueCore.deduplicationWindowMillis {
                recentlyDeleted.append((queue, id, replay.messageID, replay.sentAtMillis))
            }
            replay.states.remove(queue)
            if replay.states.isEmpty {
                folded.removeValue(forKey: entry)
                store.release(replay.position)
            } else {
                folded[entry] = replay
            }
        }
        try store.replayIndex { record, position throws(StoreError) in
            switch record {
            case .message(let message):
                nextEntry = max(nextEntry, message.entry + 1)
                if let older = folded.removeValue(forKey: message.entry) { store.release(older.position) }
                var states = ReplayStates.none
                for target in message.targets where queues[target.queue] != nil {
                    // A later target for the same queue wins.
                    states.set(target.queue, VisibilityMark(
                        entry: message.entry, visibleAtMillis: target.visibleAtMillis, receiveCount: target.receiveCount,
                        firstReceiveAtMillis: target.firstReceiveAtMillis))
                }
                if states.isEmpty {
                    store.release(position)
                } else {
                    // Only a FIFO queue's restore uses the ids (deduplication); not keeping them for
                    // the others spares a heap string per message that would fragment the heap.
                    let fifo = states.anyQueue { queues[$0]?.core.attributes.fifo == true }
                    folded[message.entry] = ReplayEntry(
                        position: position, messageID: fifo ? message.messageID : "", sentAtMillis: message.sentAtMillis,
                        size: message.bodySize, groupID: fifo ? message.groupID : nil,
                        deduplicationID: fifo ? message.deduplicationID : nil, states: states)
                }
            case .other(.delete(let queue, let entries)):
                for entry in entries { drop(entry, from: queue) }
            case .other(.visibility(let queue, let marks)):
                for mark in marks { folded[mark.entry]?.states.update(queue, mark) }
            case .other(.purge(let queue, let through)):
                for (entry, replay) in folded where entry <= through && replay.states.holds(queue) { drop(entry, from: queue) }
            case .other(.message), .other(.meta):
                break
            }
        }
        for deleted in recentlyDeleted.sorted(by: { $0.at < $1.at }) {
            queues[deleted.queue]?.core.restoreDeduplication(deleted.id, messageID: deleted.messageID, at: deleted.at)
        }
        // The folded index is transient: hand each survivor to its queues, then let it go.
        var holders: [UInt64: UInt32] = [:]
        for entry in folded.keys.sorted() {
            guard let replay = folded[entry] else { continue }
            if replay.states.count > 1 { holders[entry] = UInt32(replay.states.count) }
            replay.states.forEach { queue, state in
                let restored = QueueEntry(
                    entry: entry, position: replay.position.packed, sentAtMillis: replay.sentAtMillis,
                    visibleAtMillis: state.visibleAtMillis, firstReceiveAtMillis: state.firstReceiveAtMillis,
                    receiveCount: state.receiveCount, size: replay.size)
                queues[queue]?.core.restore(
                    restored, groupID: replay.groupID, deduplicationID: replay.deduplicationID, messageID: replay.messageID, now: now)
            }
        }
        folded = [:]

        report.queues = queues.count
        for slot in queues.values {
            let counts = slot.core.counts(now: now)
            report.messages += counts.visible + counts.inFlight + counts.delayed
            report.inFlight += counts.inFlight
        }
        state.withLock { state in
            state.queues = queues
            state.ids = ids
            state.nextQueueID = nextQueueID
            state.nextEntry = nextEntry
            state.holders = holders
        }
        expireAll()
        return report
    }

    /// Drops messages past their queue's retention period (call periodically; cheap when none is).
    public func expireAll() {
        let now = clock()
        state.withLock { state in
            for id in Array(state.queues.keys) {
                guard let slot = state.queues[id] else { continue }
                let expired = slot.core.expire(now: now)
                guard !expired.isEmpty else { continue }
                store.append([.delete(queue: id, entries: expired.map(\.entry))], on: callbackQueue) { _ in }
                for entry in expired { releaseHolder(entry, in: &state) }
            }
        }
    }

    // MARK: - Compaction

    /// Carries the live messages of old, mostly-dead journal segments forward (one new record per
    /// message with every queue's current state), so those segments can be reclaimed. Reads happen
    /// outside the lock; the copies are appended under it (see the contract on journal order).
    /// Returns how many messages were carried. Call periodically, off the hot path.
    @discardableResult
    public func compact() -> Int {
        let candidates = Set(store.compactionCandidates())
        guard !candidates.isEmpty else { return 0 }
        let live = state.withLock { state -> [UInt64: UInt64] in
            var live: [UInt64: UInt64] = [:]
            for slot in state.queues.values {
                for entry in slot.core.entries() where candidates.contains(LogPosition(packed: entry.position).segment) {
                    live[entry.entry] = entry.position
                }
            }
            return live
        }
        var stored: [(StoredMessage, UInt64)] = []
        for (_, position) in live {
            if case .message(let message)? = try? store.read(LogPosition(packed: position)) { stored.append((message, position)) }
        }
        guard !stored.isEmpty else { return 0 }
        return state.withLock { state -> Int in
            var copies: [(StoredMessage, UInt64)] = []
            var current: [UInt32: [UInt64: QueueEntry]] = [:]
            for (id, slot) in state.queues {
                var map: [UInt64: QueueEntry] = [:]
                for entry in slot.core.entries() where live[entry.entry] != nil { map[entry.entry] = entry }
                current[id] = map
            }
            for (message, oldPosition) in stored {
                var copy = message
                copy.targets = []
                for (queue, entries) in current {
                    guard let entry = entries[message.entry], entry.position == oldPosition else { continue }
                    let old = message.targets.first { $0.queue == queue }
                    copy.targets.append(.init(
                        queue: queue, subscription: old?.subscription ?? "", raw: old?.raw ?? true,
                        visibleAtMillis: entry.visibleAtMillis, receiveCount: entry.receiveCount,
                        firstReceiveAtMillis: entry.firstReceiveAtMillis))
                }
                if !copy.targets.isEmpty { copies.append((copy, oldPosition)) }
            }
            guard !copies.isEmpty else { return 0 }
            store.append(copies.map { .message($0.0) }, on: callbackQueue) { [self, copies] result in
                guard case .success(let positions) = result else { return }
                self.state.withLock { state in
                    // Per queue, the entries whose copy it still holds get the new position.
                    var moves: [UInt32: [UInt64: UInt64]] = [:]
                    var held: [UInt32: Set<UInt64>] = [:]
                    for ((copy, _), newPosition) in zip(copies, positions) {
                        for target in copy.targets { moves[target.queue, default: [:]][copy.entry] = newPosition.packed }
                    }
                    for (queue, map) in moves {
                        guard let slot = state.queues[queue] else { continue }
                        let present = Set(slot.core.entries().lazy.filter { map[$0.entry] != nil }.map(\.entry))
                        slot.core.updatePositions(map.filter { present.contains($0.key) })
                        held[queue] = present
                    }
                    for ((copy, oldPosition), newPosition) in zip(copies, positions) {
                        let stillHeld = copy.targets.contains { held[$0.queue]?.contains(copy.entry) == true }
                        // Deleted meanwhile: its delete released the old record; the copy is dead too.
                        store.release(stillHeld ? LogPosition(packed: oldPosition) : newPosition)
                    }
                }
            }
            return copies.count
        }
    }
}
