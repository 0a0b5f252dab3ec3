import HeraldCore

/// Retention (MessageRetentionPeriod, counted from the original send) and PurgeQueue.
///
/// `expire` is cheap when nothing expires: each store keeps a lower bound of the send times it
/// holds. The visible deque is mostly in send order: expired entries come off its front, and it is
/// scanned whole only when an entry that joined it out of order (a redelivery) may have expired.
extension QueueCore {
    /// Entries sent at or before this time have outlived the retention period at `now`.
    func retentionCutoff(_ now: Int64) -> Int64 { now - Int64(attributes.messageRetentionPeriod) * 1000 }

    /// Drops every entry past its retention, in flight or not; the caller journals and releases them.
    public mutating func expire(now: Int64) -> [QueueEntry] {
        advance(now)
        let cutoff = retentionCutoff(now)
        return isFIFO ? expireFIFO(cutoff: cutoff, now: now) : expireStandard(cutoff: cutoff)
    }

    private mutating func expireStandard(cutoff: Int64) -> [QueueEntry] {
        var expired: [QueueEntry] = []
        while let first = visible.first, first.sentAtMillis <= cutoff, let entry = visible.popFirst() { expired.append(entry) }
        if visibleOutOfOrderMinSent <= cutoff {
            expired += visible.removeAll { $0.sentAtMillis <= cutoff }
            visibleMaxSent = .min
            visibleOutOfOrderMinSent = .max
            visible.forEach { entry in
                if entry.sentAtMillis < visibleMaxSent {
                    visibleOutOfOrderMinSent = Swift.min(visibleOutOfOrderMinSent, entry.sentAtMillis)
                } else {
                    visibleMaxSent = entry.sentAtMillis
                }
            }
        }
        if visible.isEmpty {
            visibleMaxSent = .min
            visibleOutOfOrderMinSent = .max
        }
        if delayedMinSent <= cutoff {
            expired += delayed.elements.filter { $0.entry.sentAtMillis <= cutoff }.map(\.entry)
            delayed.filter { $0.entry.sentAtMillis > cutoff }
            delayedMinSent = delayed.elements.map(\.entry.sentAtMillis).min() ?? .max
        }
        if inFlightMinSent <= cutoff {
            for (key, record) in inFlight where record.entry.sentAtMillis <= cutoff {
                expired.append(record.entry)
                inFlight[key] = nil
            }
            inFlightMinSent = inFlight.values.map(\.entry.sentAtMillis).min() ?? .max
        }
        return expired
    }

    private mutating func expireFIFO(cutoff: Int64, now: Int64) -> [QueueEntry] {
        guard fifoMinSent <= cutoff else { return [] }
        var expired: [QueueEntry] = []
        var removedDelayed = false
        var lowest = Int64.max
        for i in groups.indices where groups[i].live {
            let removed = groups[i].messages.removeAll { $0.sentAtMillis <= cutoff }
            for entry in removed {
                if inFlight.removeValue(forKey: entry.entry) != nil { groups[i].inFlight -= 1 }
                if entry.receiveCount == 0 && entry.visibleAtMillis > now { removedDelayed = true }
            }
            fifoStored -= removed.count
            expired += removed
            groups[i].messages.forEach { lowest = Swift.min(lowest, $0.sentAtMillis) }
            if !removed.isEmpty {
                scheduleIfReady(UInt32(i))
                freeGroupIfIdle(UInt32(i))
            }
        }
        fifoMinSent = lowest
        inFlightMinSent = inFlight.values.map(\.entry.sentAtMillis).min() ?? .max
        if removedDelayed { rebuildDelayTimes(now: now) }
        return expired
    }

    /// PurgeQueue: every message goes (the caller journals a purge and releases them). One per
    /// 60 s, else PurgeQueueInProgress. FIFO deduplication ids stay remembered.
    public mutating func purge(now: Int64) throws(HeraldError) -> [QueueEntry] {
        if let last = lastPurgeAt, now - last < Self.purgeIntervalMillis { throw QueueErrors.purgeInProgress(name) }
        lastPurgeAt = now
        let all = entries()
        visible.removeAll()
        visibleMaxSent = .min
        visibleOutOfOrderMinSent = .max
        delayed.replaceAll(with: [])
        delayedMinSent = .max
        inFlight = [:]
        inFlightMinSent = .max
        timers.replaceAll(with: [])
        for i in groups.indices where groups[i].live {
            groups[i].messages.removeAll()
            groups[i].inFlight = 0
            groups[i].scheduled = false
            freeGroupIfIdle(UInt32(i))
        }
        ready.removeAll()
        waiting.replaceAll(with: [])
        delayTimes.replaceAll(with: [])
        fifoStored = 0
        fifoMinSent = .max
        return all
    }
}
