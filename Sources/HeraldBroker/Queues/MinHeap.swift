/// What a `MinHeap` orders by: a time in milliseconds, ties broken by `Comparable`.
protocol HeapTimed: Comparable {
    var heapTime: Int64 { get }
}

/// A binary min-heap in one array: the queues' delayed messages and their visibility and group
/// timers. `forEach(dueBy:)` visits only the elements due by a time (it never descends below a later
/// one), so a read-only count of what became due costs what became due, not the heap's size.
struct MinHeap<Element: HeapTimed> {
    private(set) var elements: [Element] = []

    init() {}

    var count: Int { elements.count }
    var isEmpty: Bool { elements.isEmpty }
    var min: Element? { elements.first }

    mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let smallest = elements.removeLast()
        siftDown(from: 0)
        return smallest
    }

    /// Pops the minimum if it is due by `time`.
    mutating func popDue(by time: Int64) -> Element? {
        guard let first = elements.first, first.heapTime <= time else { return nil }
        return popMin()
    }

    /// Calls `body` for every element with `heapTime <= time`, in no particular order.
    func forEach(dueBy time: Int64, _ body: (Element) -> Void) {
        guard let first = elements.first, first.heapTime <= time else { return }
        var stack = [0]
        while let index = stack.popLast() {
            body(elements[index])
            for child in [2 * index + 1, 2 * index + 2] where child < elements.count && elements[child].heapTime <= time {
                stack.append(child)
            }
        }
    }

    /// Keeps the elements `shouldKeep` selects and restores the heap order: O(n).
    mutating func filter(_ shouldKeep: (Element) -> Bool) {
        elements = elements.filter(shouldKeep)
        rebuild()
    }

    mutating func replaceAll(with newElements: [Element]) {
        elements = newElements
        rebuild()
    }

    private mutating func rebuild() {
        guard elements.count > 1 else { return }
        for index in stride(from: elements.count / 2 - 1, through: 0, by: -1) { siftDown(from: index) }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < elements.count && elements[left] < elements[smallest] { smallest = left }
            if right < elements.count && elements[right] < elements[smallest] { smallest = right }
            if smallest == parent { return }
            elements.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension MinHeap: Sendable where Element: Sendable {}

extension MinHeap {
    /// Changes each element in place without touching what orders it (the caller's promise).
    mutating func updateEach(_ body: (inout Element) -> Void) {
        for index in elements.indices { body(&elements[index]) }
    }
}
