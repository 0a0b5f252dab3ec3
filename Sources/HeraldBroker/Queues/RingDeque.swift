/// A double-ended queue over one circular array, for plain values (the queues' `QueueEntry`s and
/// group references). Unlike `FIFOQueue` it needs no optional per slot: a free slot keeps a stale
/// copy, which is harmless for trivial values and keeps a 56-byte entry at 56 bytes.
/// Storage halves when three quarters of it stand empty, so a drained backlog gives memory back.
struct RingDeque<Element> {
    private var slots: [Element] = []
    private var head = 0
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }
    var first: Element? { count == 0 ? nil : slots[head] }

    private func slotIndex(_ offset: Int) -> Int {
        let index = head + offset
        return index >= slots.count ? index - slots.count : index
    }

    subscript(offset: Int) -> Element {
        get {
            precondition(offset >= 0 && offset < count, "RingDeque index out of range")
            return slots[slotIndex(offset)]
        }
        set {
            precondition(offset >= 0 && offset < count, "RingDeque index out of range")
            slots[slotIndex(offset)] = newValue
        }
    }

    mutating func append(_ element: Element) {
        if count == slots.count { relayout(capacity: Swift.max(2, slots.count * 2), filler: element) }
        slots[slotIndex(count)] = element
        count += 1
    }

    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = slots[head]
        head = slotIndex(1)
        count -= 1
        shrinkIfSparse(filler: element)
        return element
    }

    /// Removes the element at `offset`, shifting the later ones forward: O(count - offset).
    @discardableResult
    mutating func remove(at offset: Int) -> Element {
        let element = self[offset]
        if offset == 0 { _ = popFirst(); return element }
        var index = offset
        while index + 1 < count {
            self[index] = self[index + 1]
            index += 1
        }
        count -= 1
        shrinkIfSparse(filler: element)
        return element
    }

    /// Removes every element `shouldRemove` selects, keeping the order of the rest; returns the removed.
    mutating func removeAll(where shouldRemove: (Element) -> Bool) -> [Element] {
        var kept: [Element] = []
        var removed: [Element] = []
        kept.reserveCapacity(count)
        for offset in 0..<count {
            let element = self[offset]
            if shouldRemove(element) { removed.append(element) } else { kept.append(element) }
        }
        if !removed.isEmpty {
            slots = kept
            head = 0
            count = kept.count
        }
        return removed
    }

    mutating func removeAll() {
        slots = []
        head = 0
        count = 0
    }

    func forEach(_ body: (Element) throws -> Void) rethrows {
        for offset in 0..<count { try body(slots[slotIndex(offset)]) }
    }

    func firstIndex(where predicate: (Element) -> Bool) -> Int? {
        for offset in 0..<count where predicate(slots[slotIndex(offset)]) { return offset }
        return nil
    }

    private mutating func shrinkIfSparse(filler: Element) {
        if count == 0 && slots.count > 64 {
            removeAll()
        } else if slots.count > 64 && count < slots.count / 4 {
            relayout(capacity: slots.count / 2, filler: filler)
        }
    }

    private mutating func relayout(capacity: Int, filler: Element) {
        var fresh: [Element] = []
        fresh.reserveCapacity(capacity)
        for offset in 0..<count { fresh.append(slots[slotIndex(offset)]) }
        while fresh.count < capacity { fresh.append(filler) }
        slots = fresh
        head = 0
    }
}

extension RingDeque: Sendable where Element: Sendable {}
