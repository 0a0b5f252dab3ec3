/// An immutable-by-value array of optional elements indexed by small integers, with cheap copies:
/// a 32-way trie whose nodes are shared between copies. Copying is O(1); setting one index copies
/// only the nodes on its path (⌈log32 n⌉ nodes of 32 slots). Routing snapshots hold one, so a
/// subscribe or unsubscribe on a topic with 100,000 subscriptions copies about 100 slots, not
/// 100,000, and publishers keep reading the snapshot they retained without a lock.
struct PersistentSlots<Element: Sendable>: Sendable {
    private static var bits: Int { 5 }
    private static var width: Int { 1 << bits }
    private static var mask: Int { width - 1 }

    private var root: SlotNode<Element>?
    /// Bit shift of the root's level: 0 when the root is a leaf.
    private var shift = 0

    init() {}

    /// One past the highest index this trie can hold without growing.
    private var capacity: Int { Self.width << shift }

    /// The element at `index`, or nil when none was set (any index, negative or past the end).
    subscript(index: Int) -> Element? {
        guard index >= 0, index < capacity, var node = root else { return nil }
        var level = shift
        while level > 0 {
            guard let child = node.children[(index >> level) & Self.mask] else { return nil }
            node = child
            level -= Self.bits
        }
        return node.items[index & Self.mask]
    }

    mutating func set(_ index: Int, _ value: Element?) {
        precondition(index >= 0, "slot indices are never negative")
        while index >= capacity {
            guard let old = root else {
                shift += Self.bits
                continue
            }
            var children = [SlotNode<Element>?](repeating: nil, count: Self.width)
            children[0] = old
            root = SlotNode(children: children)
            shift += Self.bits
        }
        root = Self.setting(root, level: shift, index: index, value: value)
    }

    private static func setting(_ node: SlotNode<Element>?, level: Int, index: Int, value: Element?) -> SlotNode<Element> {
        if level == 0 {
            var items = node?.items ?? [Element?](repeating: nil, count: width)
            items[index & mask] = value
            return SlotNode(items: items)
        }
        var children = node?.children ?? [SlotNode<Element>?](repeating: nil, count: width)
        let position = (index >> level) & mask
        children[position] = setting(children[position], level: level - bits, index: index, value: value)
        return SlotNode(children: children)
    }

    /// Calls `body` with every element set at indices `0..<count`, in index order.
    func forEach(below count: Int, _ body: (Element) throws -> Void) rethrows {
        guard let root, count > 0 else { return }
        try Self.visit(root, level: shift, base: 0, below: count, body)
    }

    private static func visit(
        _ node: SlotNode<Element>, level: Int, base: Int, below count: Int, _ body: (Element) throws -> Void
    ) rethrows {
        if level == 0 {
            for (offset, item) in node.items.enumerated() {
                guard base + offset < count else { return }
                if let item { try body(item) }
            }
            return
        }
        for (position, child) in node.children.enumerated() {
            let childBase = base + (position << level)
            guard childBase < count else { return }
            if let child { try visit(child, level: level - bits, base: childBase, below: count, body) }
        }
    }
}

/// One trie node: a leaf holds items, a branch children (the other array is empty).
final class SlotNode<Element: Sendable>: Sendable {
    let children: [SlotNode<Element>?]
    let items: [Element?]

    init(children: [SlotNode<Element>?]) {
        self.children = children
        self.items = []
    }

    init(items: [Element?]) {
        self.children = []
        self.items = items
    }
}
