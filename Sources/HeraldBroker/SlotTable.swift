/// A table of optional elements addressed by small, stable indices (slots), with a free list: a
/// new element takes a freed slot before the table grows. Indices are what other structures hold
/// (a route's matcher ids, a delivery's subscription slot), so a slot is only reused once its
/// owner says nothing refers to it any more: `take` empties a slot without freeing it, `free`
/// makes it reusable.
struct SlotTable<Element> {
    private(set) var elements: [Element?] = []
    private var freeSlots: [Int] = []

    /// The element in `slot`, nil when empty or out of range.
    subscript(slot: Int) -> Element? {
        get { slot >= 0 && slot < elements.count ? elements[slot] : nil }
        set {
            guard slot >= 0 && slot < elements.count else { return }
            elements[slot] = newValue
        }
    }

    /// Puts `element` in a free slot (or a new one) and returns it.
    mutating func insert(_ element: Element) -> Int {
        if let free = freeSlots.popLast() {
            elements[free] = element
            return free
        }
        elements.append(element)
        return elements.count - 1
    }

    /// Empties `slot` and returns what it held; the slot stays reserved until `free`.
    mutating func take(_ slot: Int) -> Element? {
        guard slot >= 0 && slot < elements.count else { return nil }
        return elements[slot].take()
    }

    /// Makes empty slots reusable.
    mutating func free(_ slot: Int) { freeSlots.append(slot) }
    mutating func free<S: Sequence<Int>>(_ slots: S) { freeSlots.append(contentsOf: slots) }

    /// Empties and frees `slot`; returns what it held.
    mutating func remove(_ slot: Int) -> Element? {
        let element = take(slot)
        if element != nil { free(slot) }
        return element
    }

    mutating func removeAll() {
        elements = []
        freeSlots = []
    }
}
