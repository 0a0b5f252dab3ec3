/// Start-up replay and compaction: restoring entries from the journal without validation or
/// deduplication checks, applying journaled visibility marks and deletes, moving positions.
///
/// `remove` and `applyVisibility` find an entry that is not in flight by a linear scan; at start-up
/// fold the journal's marks and deletes into each entry first and `restore` the survivors.
extension QueueCore {
    /// Restores an entry with its persisted state (visibleAt, receiveCount, firstReceiveAt). FIFO:
    /// call in send order; a deduplication id sent less than 5 minutes before `now` is remembered.
    /// A restored in-flight message's 12-hour visibility cap counts from `now`.
    public mutating func restore(_ entry: QueueEntry, groupID: String?, deduplicationID: String?, messageID: String, now: Int64) {
        if isFIFO {
            placeFIFO(entry, groupID: groupID ?? "", now: now)
            if let deduplicationID, now - entry.sentAtMillis < Self.deduplicationWindowMillis,
                duplicateOf(deduplicationID: deduplicationID, now: now) == nil
            {
                rememberDeduplication(deduplicationID, messageID: messageID, at: entry.sentAtMillis)
            }
        } else {
            placeStandard(entry, receivedAt: now, now: now)
        }
    }

    /// Replays a visibility mark. Returns false when the queue does not hold the entry.
    @discardableResult
    public mutating func applyVisibility(entry id: UInt64, visibleAt: Int64, receiveCount: UInt32, firstReceiveAt: Int64, now: Int64) -> Bool {
        advance(now)
        if isFIFO {
            guard let group = groupHolding(id), let offset = groups[Int(group)].messages.firstIndex(where: { $0.entry == id }) else { return false }
            var entry = groups[Int(group)].messages[offset]
            let wasInFlight = inFlight.removeValue(forKey: id) != nil
            let wasDelayed = entry.receiveCount == 0 && entry.visibleAtMillis > now
            if wasInFlight { groups[Int(group)].inFlight -= 1 }
            entry.visibleAtMillis = visibleAt
            entry.receiveCount = receiveCount
            entry.firstReceiveAtMillis = firstReceiveAt
            groups[Int(group)].messages[offset] = entry
            if entry.isInFlight(at: now) {
                groups[Int(group)].inFlight += 1
                putInFlight(entry, receivedAt: now)
            }
            if wasDelayed || (entry.receiveCount == 0 && entry.visibleAtMillis > now) { rebuildDelayTimes(now: now) }
            scheduleIfReady(group)
            return true
        }
        guard var entry = remove(entry: id) else { return false }
        entry.visibleAtMillis = visibleAt
        entry.receiveCount = receiveCount
        entry.firstReceiveAtMillis = firstReceiveAt
        placeStandard(entry, receivedAt: now, now: now)
        return true
    }

    /// Replays a delete (or a dead-letter move away): the removed entry, nil if not held.
    public mutating func remove(entry id: UInt64) -> QueueEntry? {
        if isFIFO {
            guard let group = groupHolding(id), let offset = groups[Int(group)].messages.firstIndex(where: { $0.entry == id }) else { return nil }
            let entry = groups[Int(group)].messages[offset]
            let wasInFlight = inFlight.removeValue(forKey: id) != nil
            let removed = removeFromGroup(entry, wasInFlight: wasInFlight)
            if entry.receiveCount == 0 { rebuildDelayTimes(now: .min) }
            return removed
        }
        if let record = inFlight.removeValue(forKey: id) { return record.entry }
        if let offset = visible.firstIndex(where: { $0.entry == id }) { return visible.remove(at: offset) }
        if let slot = delayed.elements.first(where: { $0.entry.entry == id }) {
            delayed.filter { $0.entry.entry != id }
            return slot.entry
        }
        return nil
    }

    /// Compaction moved entries: their new journal positions.
    public mutating func updatePositions(_ newPositions: [UInt64: UInt64]) {
        guard !newPositions.isEmpty else { return }
        func moved(_ entry: inout QueueEntry) {
            if let position = newPositions[entry.entry] { entry.position = position }
        }
        for offset in 0..<visible.count { moved(&visible[offset]) }
        delayed.updateEach { moved(&$0.entry) }
        for key in inFlight.keys {
            if let position = newPositions[key] { inFlight[key]?.entry.position = position }
        }
        for i in groups.indices where groups[i].live {
            for offset in 0..<groups[i].messages.count { moved(&groups[i].messages[offset]) }
        }
    }

    public mutating func updatePosition(entry: UInt64, to position: UInt64) {
        updatePositions([entry: position])
    }

    private func groupHolding(_ id: UInt64) -> UInt32? {
        if let record = inFlight[id] { return record.entry.group }
        for i in groups.indices where groups[i].live && groups[i].messages.firstIndex(where: { $0.entry == id }) != nil { return UInt32(i) }
        return nil
    }
}
