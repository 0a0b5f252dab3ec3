/// FIFO queues: message groups, the ready ring, receive in group order, deduplication.
///
/// A group is blocked while any of its messages is in flight; its in-flight messages stay at its
/// front, so when their timeout runs out they are the first received again. One receive takes
/// consecutive messages of a group (up to `max`) and then moves on to the next ready group.
extension QueueCore {
    func currentGroup(_ ref: GroupRef) -> MessageGroup? {
        guard Int(ref.index) < groups.count else { return nil }
        let group = groups[Int(ref.index)]
        return group.live && group.generation == ref.generation ? group : nil
    }

    func ref(_ index: UInt32) -> GroupRef { GroupRef(index: index, generation: groups[Int(index)].generation) }

    mutating func internGroup(_ name: String) -> UInt32 {
        if let index = groupByName[name] { return index }
        let index: UInt32
        if let reused = freeGroups.popLast() {
            index = reused
            groups[Int(index)].name = name
            groups[Int(index)].live = true
        } else {
            index = UInt32(groups.count)
            groups.append(MessageGroup(name: name))
        }
        groupByName[name] = index
        return index
    }

    /// Frees an empty, unblocked group's slot; references to it go stale with the generation.
    mutating func freeGroupIfIdle(_ index: UInt32) {
        let i = Int(index)
        guard groups[i].live, groups[i].messages.isEmpty, groups[i].inFlight == 0 else { return }
        groupByName[groups[i].name] = nil
        groups[i] = MessageGroup(name: "", generation: groups[i].generation &+ 1, live: false)
        freeGroups.append(index)
    }

    /// Puts an unblocked group with messages in the ready ring (once). Idle groups are freed.
    mutating func scheduleIfReady(_ index: UInt32) {
        let i = Int(index)
        guard groups[i].live, groups[i].inFlight == 0, !groups[i].scheduled else { return }
        if groups[i].messages.isEmpty { freeGroupIfIdle(index); return }
        groups[i].scheduled = true
        ready.append(ref(index))
    }

    mutating func placeFIFO(_ entry: QueueEntry, groupID: String, now: Int64) {
        let index = internGroup(groupID)
        var placed = entry
        placed.group = index
        groups[Int(index)].messages.append(placed)
        fifoStored += 1
        fifoMinSent = Swift.min(fifoMinSent, placed.sentAtMillis)
        if placed.isInFlight(at: now) {
            groups[Int(index)].inFlight += 1
            putInFlight(placed, receivedAt: now)
        } else if placed.visibleAtMillis > now, placed.receiveCount == 0 {
            delayTimes.push(DelayTime(heapTime: placed.visibleAtMillis))
        }
        scheduleIfReady(index)
    }

    mutating func advanceFIFO(_ now: Int64) {
        while delayTimes.popDue(by: now) != nil {}
        while let timer = waiting.popDue(by: now) {
            guard let group = currentGroup(timer.group), group.scheduled else { continue }
            ready.append(timer.group)
        }
    }

    /// An in-flight entry's timeout ran out: its group copy takes the final state, and the group
    /// is unblocked when it was the last in flight.
    mutating func releaseFromFlight(_ entry: QueueEntry) {
        syncGroupCopy(entry)
        groups[Int(entry.group)].inFlight -= 1
        scheduleIfReady(entry.group)
    }

    mutating func syncGroupCopy(_ entry: QueueEntry) {
        let i = Int(entry.group)
        if let offset = groups[i].messages.firstIndex(where: { $0.entry == entry.entry }) { groups[i].messages[offset] = entry }
    }

    /// Removes an entry from its group (the caller already dropped its in-flight record, and says
    /// whether it had one); unblocks or frees the group as it should.
    mutating func removeFromGroup(_ entry: QueueEntry, wasInFlight: Bool) -> QueueEntry? {
        let i = Int(entry.group)
        guard i < groups.count, groups[i].live, let offset = groups[i].messages.firstIndex(where: { $0.entry == entry.entry }) else { return nil }
        let removed = groups[i].messages.remove(at: offset)
        fifoStored -= 1
        if wasInFlight { groups[i].inFlight -= 1 }
        scheduleIfReady(entry.group)
        return removed
    }

    mutating func receiveFIFO(max: Int, timeoutMillis: Int64, now: Int64) -> ReceiveOutcome {
        var outcome = ReceiveOutcome()
        let cutoff = retentionCutoff(now)
        var delayedGroups: [GroupTimer] = []
        while outcome.received.count < max, inFlight.count < inFlightLimit, let groupRef = ready.popFirst() {
            guard let group = currentGroup(groupRef), group.scheduled else { continue }
            let i = Int(groupRef.index)
            groups[i].scheduled = false
            guard group.inFlight == 0 else { continue }
            var offset = 0
            while outcome.received.count < max, inFlight.count < inFlightLimit, offset < groups[i].messages.count {
                let entry = groups[i].messages[offset]
                if entry.visibleAtMillis > now { break }
                if entry.sentAtMillis <= cutoff {
                    outcome.expired.append(groups[i].messages.remove(at: offset))
                    fifoStored -= 1
                } else if let policy = attributes.redrivePolicy, Int(entry.receiveCount) >= policy.maxReceiveCount {
                    outcome.deadLettered.append(groups[i].messages.remove(at: offset))
                    fifoStored -= 1
                } else {
                    let next = Self.received(entry, timeoutMillis: timeoutMillis, now: now)
                    groups[i].messages[offset] = next
                    groups[i].inFlight += 1
                    putInFlight(next, receivedAt: now)
                    outcome.received.append(ReceivedMessage(entry: next, receiptHandle: handleText(next), groupID: group.name))
                    offset += 1
                }
            }
            if groups[i].inFlight == 0, let head = groups[i].messages.first, head.visibleAtMillis > now {
                groups[i].scheduled = true
                delayedGroups.append(GroupTimer(heapTime: head.visibleAtMillis, group: groupRef))
            } else {
                scheduleIfReady(groupRef.index)
            }
        }
        for timer in delayedGroups { waiting.push(timer) }
        if timeoutMillis == 0 { advance(now) }
        return outcome
    }

    /// Replay: a deduplication id whose message is gone but whose window is still open.
    public mutating func restoreDeduplication(_ id: String, messageID: String, at time: Int64) {
        guard isFIFO else { return }
        rememberDeduplication(id, messageID: messageID, at: time)
    }

    mutating func rememberDeduplication(_ id: String, messageID: String, at time: Int64) {
        while let oldest = dedupOrder.first, time - oldest.at >= Self.deduplicationWindowMillis {
            _ = dedupOrder.popFirst()
            if let record = dedup[oldest.id], record.at == oldest.at { dedup[oldest.id] = nil }
        }
        dedup[id] = DedupRecord(messageID: messageID, at: time)
        dedupOrder.append(DedupOrder(id: id, at: time))
    }

    mutating func rememberDelete(_ handle: ReceiptHandle) {
        recentDeletes.insert(handle)
        recentDeleteOrder.append(handle)
        if recentDeleteOrder.count > Self.recentDeleteMemory, let oldest = recentDeleteOrder.popFirst() {
            recentDeletes.remove(oldest)
        }
    }

    /// A new queue DelaySeconds on a FIFO queue: never-received messages wait sentAt + the new
    /// delay; every group is rescheduled (a receive moves those with a delayed head to the heap).
    mutating func reapplyFIFODelay() {
        let delayMillis = Int64(attributes.delaySeconds) * 1000
        var times: [DelayTime] = []
        ready.removeAll()
        waiting.replaceAll(with: [])
        for i in groups.indices where groups[i].live {
            for offset in 0..<groups[i].messages.count where groups[i].messages[offset].receiveCount == 0 {
                groups[i].messages[offset].visibleAtMillis = groups[i].messages[offset].sentAtMillis + delayMillis
                times.append(DelayTime(heapTime: groups[i].messages[offset].visibleAtMillis))
            }
            groups[i].scheduled = false
            scheduleIfReady(UInt32(i))
        }
        delayTimes.replaceAll(with: times)
    }

    /// Rebuilds the delayed-times heap after delayed entries were removed.
    mutating func rebuildDelayTimes(now: Int64) {
        var times: [DelayTime] = []
        for group in groups where group.live {
            group.messages.forEach { entry in
                if entry.receiveCount == 0 && entry.visibleAtMillis > now { times.append(DelayTime(heapTime: entry.visibleAtMillis)) }
            }
        }
        delayTimes.replaceAll(with: times)
    }
}
