/// Standard queues: the visible deque, the delayed heap, receive and the stale-handle delete.
extension QueueCore {
    /// Places an entry by its state at `now`: in flight, delayed or visible.
    mutating func placeStandard(_ entry: QueueEntry, receivedAt: Int64, now: Int64) {
        if entry.isInFlight(at: now) {
            putInFlight(entry, receivedAt: receivedAt)
        } else if entry.visibleAtMillis > now {
            delayed.push(DelayedSlot(entry: entry))
            delayedMinSent = Swift.min(delayedMinSent, entry.sentAtMillis)
        } else {
            appendVisible(entry)
        }
    }

    mutating func appendVisible(_ entry: QueueEntry) {
        if entry.sentAtMillis < visibleMaxSent {
            visibleOutOfOrderMinSent = Swift.min(visibleOutOfOrderMinSent, entry.sentAtMillis)
        } else {
            visibleMaxSent = entry.sentAtMillis
        }
        visible.append(entry)
    }

    mutating func receiveStandard(max: Int, timeoutMillis: Int64, now: Int64) -> ReceiveOutcome {
        var outcome = ReceiveOutcome()
        let cutoff = retentionCutoff(now)
        while outcome.received.count < max, inFlight.count < inFlightLimit, let entry = visible.popFirst() {
            if entry.sentAtMillis <= cutoff {
                outcome.expired.append(entry)
            } else if let policy = attributes.redrivePolicy, Int(entry.receiveCount) >= policy.maxReceiveCount {
                outcome.deadLettered.append(entry)
            } else {
                let next = Self.received(entry, timeoutMillis: timeoutMillis, now: now)
                putInFlight(next, receivedAt: now)
                outcome.received.append(ReceivedMessage(entry: next, receiptHandle: handleText(next), groupID: nil))
            }
        }
        // A zero timeout: visible again at once.
        if timeoutMillis == 0 { advance(now) }
        return outcome
    }

    /// A latest handle whose timeout ran out: the message is visible again, near the deque's end.
    mutating func removeRecentlyVisible(_ handle: ReceiptHandle) -> QueueEntry? {
        var offset = visible.count - 1
        let stop = Swift.max(0, visible.count - Self.staleDeleteWindow)
        while offset >= stop {
            let entry = visible[offset]
            if entry.entry == handle.entry {
                return entry.receiveCount == handle.receiveCount ? visible.remove(at: offset) : nil
            }
            offset -= 1
        }
        return nil
    }
}
