import HeraldCore

/// The unacked deliveries of an ack-mode subscription, in tag order. Tags are issued in increasing
/// order, so the log is an append-only sorted array: acks in order hit the front in O(1), others
/// binary-search. An acked entry is cleared at once (its payload freed); cleared entries at the
/// front are dropped, and the log compacts when cleared entries outnumber live ones, so it never
/// holds more than about twice the live count.
struct InFlightLog {
    struct Entry {
        let tag: UInt64
        var message: Message?
        let size: Int
    }

    private var entries: [Entry] = []
    private var head = 0
    /// Live (unacked) entries.
    private(set) var count = 0

    /// Entries held, live or cleared (for the memory bound's tests).
    var storedCount: Int { entries.count - head }

    /// `tag` must be greater than every tag appended before.
    mutating func append(tag: UInt64, message: Message, size: Int) {
        entries.append(Entry(tag: tag, message: message, size: size))
        count += 1
    }

    /// Releases `tag`; false when it is not in flight.
    mutating func remove(tag: UInt64) -> Bool {
        guard let index = index(of: tag), entries[index].message != nil else { return false }
        entries[index].message = nil
        count -= 1
        while head < entries.count && entries[head].message == nil { head += 1 }
        if head == entries.count {
            entries.removeAll(keepingCapacity: entries.count <= 4_096)
            head = 0
        } else if entries.count - head - count > count + 64 {
            entries = entries[head...].filter { $0.message != nil }
            head = 0
        } else if head >= 1_024 && head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return true
    }

    /// Takes every live entry out, in tag order.
    mutating func removeAll() -> [(message: Message, size: Int)] {
        var live: [(message: Message, size: Int)] = []
        live.reserveCapacity(count)
        for entry in entries[head...] {
            if let message = entry.message { live.append((message, entry.size)) }
        }
        entries = []
        head = 0
        count = 0
        return live
    }

    private func index(of tag: UInt64) -> Int? {
        guard head < entries.count else { return nil }
        if entries[head].tag == tag { return head }
        var low = head, high = entries.count - 1
        while low <= high {
            let mid = low + (high - low) / 2
            let found = entries[mid].tag
            if found == tag { return mid }
            if found < tag { low = mid + 1 } else { high = mid - 1 }
        }
        return nil
    }
}
