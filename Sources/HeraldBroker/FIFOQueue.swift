/// A first-in-first-out queue over one array: append at the back, pop at the front in O(1)
/// amortized. Popped slots are cleared at once (so a popped message's payload is freed), and the
/// dead prefix is compacted away when it is at least half the storage.
struct FIFOQueue<Element> {
    private var storage: [Element?] = []
    private var head = 0

    init() {}

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head].take()
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.count <= 1024)
            head = 0
        } else if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Puts `elements` in front of the current ones, keeping their order.
    mutating func prepend(contentsOf elements: [Element]) {
        guard !elements.isEmpty else { return }
        var next: [Element?] = []
        next.reserveCapacity(elements.count + count)
        for element in elements { next.append(element) }
        next.append(contentsOf: storage[head...])
        storage = next
        head = 0
    }

    mutating func removeAll() {
        storage = []
        head = 0
    }
}
