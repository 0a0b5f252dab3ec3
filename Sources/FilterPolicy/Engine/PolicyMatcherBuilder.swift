/// Collects the policies of one topic and compiles them into one immutable `PolicyMatcher`.
/// Adding or removing a subscription means building a new snapshot; readers of the old one are
/// unaffected (it is immutable and freed when the last reader lets go).
public struct PolicyMatcherBuilder: Sendable {
    private var policies: [Int: FilterPolicy?] = [:]

    public init() {}

    /// Adds (or replaces) subscription `id`. A `nil` policy receives every message.
    public mutating func add(_ id: Int, _ policy: FilterPolicy?) {
        policies[id] = .some(policy)
    }

    public mutating func remove(_ id: Int) {
        policies[id] = nil
    }

    public var count: Int { policies.count }

    public func build() -> PolicyMatcher {
        var compiler = PolicyCompiler()
        for id in policies.keys.sorted() {
            guard let entry = policies[id] else { continue }
            compiler.add(id: id, policy: entry)
        }
        return PolicyMatcher(storage: CompiledStorage(compiler.finish()))
    }
}

/// Per-path accumulation of conditions (key slot lists) before they are flattened. Strings are
/// keyed by their UTF-8 bytes: the reference compares strings byte for byte.
private struct PathAccumulator {
    var exact: [[UInt8]: [Int32]] = [:]
    /// Patterns already lowercased (`String.lowercased()`), as bytes.
    var equalsIgnoreCase: [[UInt8]: [Int32]] = [:]
    var prefixes: [[UInt8]: [Int32]] = [:]
    /// Reversed bytes, so a suffix is a prefix of the reversed value.
    var suffixes: [[UInt8]: [Int32]] = [:]
    var exactNumbers: [UInt64: (Double, [Int32])] = [:]
    var ranges: [NumericRange: [Int32]] = [:]
    /// Keyed by bytes, not by `AnythingBut`: String keys would merge canonically equivalent (but
    /// byte-different) lists, which the reference tells apart.
    var anythingBut: [AnythingButKey: (AnythingBut, [Int32])] = [:]
    var cidr: [CIDRBlock: [Int32]] = [:]
    var existsTrue: [Int32] = []
    var isTrue: [Int32] = []
    var isFalse: [Int32] = []
    var isNull: [Int32] = []
    /// Some deferred key reads this path's fields.
    var deferred = false
    /// Some deferred key is one exact string (compared by id: see `DeferredKey.stringID`).
    var deferredStrings = false

    mutating func register(_ condition: Condition, slot: Int32) {
        switch condition {
        case .exactString(let s): exact[Array(s.utf8), default: []].append(slot)
        case .exactNumber(let exact):
            if exact.isNaN { return }
            let d = FilterNumber.canonical(exact)
            exactNumbers[NumberTable.key(d), default: (d, [])].1.append(slot)
        case .boolean(let b):
            if b { isTrue.append(slot) } else { isFalse.append(slot) }
        case .null: isNull.append(slot)
        case .prefix(let s): prefixes[Array(s.utf8), default: []].append(slot)
        case .suffix(let s): suffixes[Array(s.utf8.reversed()), default: []].append(slot)
        case .equalsIgnoreCase(let s): equalsIgnoreCase[Array(s.lowercased().utf8), default: []].append(slot)
        case .anythingBut(let a): anythingBut[AnythingButKey(a), default: (a, [])].1.append(slot)
        case .numeric(let r): ranges[r.canonical, default: []].append(slot)
        case .exists(let e):
            if e { existsTrue.append(slot) }
        case .cidr(let block): cidr[block, default: []].append(slot)
        }
    }
}

struct AnythingButKey: Hashable {
    var kind: Int
    var strings: [[UInt8]]
    var numbers: [Double]

    init(_ condition: AnythingBut) {
        switch condition {
        case .strings(let list): (kind, strings, numbers) = (0, list.map { Array($0.utf8) }, [])
        case .numbers(let list): (kind, strings, numbers) = (1, [], list)
        case .prefix(let p): (kind, strings, numbers) = (2, [Array(p.utf8)], [])
        }
    }
}

/// Turns policies into `CompiledParts`.
private struct PolicyCompiler {
    var parts = CompiledParts()
    var pathIDs: [PathName: Int32] = [:]
    var accumulators: [PathAccumulator] = []
    var trieChildren: [TrieEdge: Int32] = [:]
    var attributeNames: [String: Int32] = [:]

    struct PathName: Hashable {
        var isBody: Bool
        var name: String
    }

    struct TrieEdge: Hashable {
        var node: Int32
        var segment: [UInt8]
    }

    var pending: [(id: Int, policy: FilterPolicy)] = []
    /// How many keys (over all policies) carry each condition: an estimate of how often a
    /// condition will be hit, used to pick each branch's anchor key.
    var conditionCounts: [ConditionUse: Int] = [:]

    struct ConditionUse: Hashable {
        var isBody: Bool
        var path: String
        var condition: Condition
    }

    mutating func add(id: Int, policy: FilterPolicy?) {
        guard let policy else {
            parts.unfilteredIDs.append(id)
            return
        }
        pending.append((id, policy))
        let isBody = policy.scope == .messageBody
        for branch in policy.branches {
            for key in branch {
                for condition in key.conditions {
                    conditionCounts[ConditionUse(isBody: isBody, path: key.path, condition: condition), default: 0] += 1
                }
            }
        }
    }

    /// Estimated hits of a key per message: rarer conditions make better anchors; conditions that
    /// hold for most values are ruled out as anchors.
    func cost(_ key: KeyCondition, isBody: Bool) -> Int {
        var total = 0
        for condition in key.conditions {
            let uses = conditionCounts[ConditionUse(isBody: isBody, path: key.path, condition: condition)] ?? 1
            let weight: Int
            switch condition {
            case .exactString, .exactNumber, .equalsIgnoreCase: weight = 1
            case .prefix, .suffix: weight = 4
            case .cidr: weight = 16
            case .boolean, .null: weight = 1_000
            case .anythingBut, .numeric, .exists: weight = broadWeight
            }
            total += min(uses, 1 << 20) * weight
        }
        return total
    }

    let broadWeight = 1 << 30

    /// Conditions that few values satisfy (cheap to index even when not the anchor).
    func isSelective(_ condition: Condition) -> Bool {
        switch condition {
        case .exactString, .exactNumber, .equalsIgnoreCase, .prefix, .suffix: return true
        default: return false
        }
    }

    mutating func compile(id: Int, policy: FilterPolicy) {
        let isBody = policy.scope == .messageBody
        if isBody { parts.hasBodyPolicies = true } else { parts.hasAttributePolicies = true }
        let policyIndex = Int32(parts.policyIDs.count)
        parts.policyIDs.append(id)
        for branch in policy.branches {
            let branchIndex = Int32(parts.branches.count)
            var need: Int32 = 0
            let absenceStart = Int32(parts.absenceKeys.count)
            let deferredStart = Int32(parts.deferredKeys.count)
            // Only the branch's most selective positive key (its anchor) is indexed; its other
            // positive keys are checked against the recorded fields once the anchor hits. A branch
            // whose keys all hold for most values (anything-but, numeric, exists) indexes them all.
            var anchor: Int? = nil
            var anchorCost = Int.max
            for (i, key) in branch.enumerated() where !key.conditions.contains(.exists(false)) && !key.conditions.isEmpty {
                let c = cost(key, isBody: isBody)
                if c < anchorCost { (anchor, anchorCost) = (i, c) }
            }
            let deferOthers = anchorCost < broadWeight
            for (i, key) in branch.enumerated() {
                let path = pathID(isBody: isBody, key.path)
                let slot = Int32(parts.keySlots.count)
                let absence = key.conditions.contains(.exists(false))
                parts.keySlots.append(KeySlot(branch: branchIndex, path: path, positiveOnly: !absence))
                if !absence && deferOthers && i != anchor {
                    parts.deferredKeys.append(slot)
                    parts.deferredStringIDs.append(-1)
                    if key.conditions.allSatisfy(isSelective) && cost(key, isBody: isBody) <= 64 {
                        // Indexed, but a hit only marks the key (no branch counting): the check
                        // is one stamp comparison.
                        parts.keySlots[Int(slot)].counted = false
                        parts.deferredConditions.append([])
                        for condition in key.conditions {
                            accumulators[Int(path)].register(condition, slot: slot)
                        }
                    } else {
                        parts.deferredConditions.append(key.conditions)
                        accumulators[Int(path)].deferred = true
                        if key.conditions.count == 1, case .exactString(let text) = key.conditions[0] {
                            // One exact string: compared by the id its text has among this path's
                            // deferred strings (looked up once per recorded field), not by bytes.
                            accumulators[Int(path)].deferredStrings = true
                            let next = parts.deferredStringCount
                            let id = parts.strings.value(tag: TableKind.deferredString.tag(path), bytes: Array(text.utf8)) { next }
                            if id == next { parts.deferredStringCount += 1 }
                            parts.deferredStringIDs[parts.deferredKeys.count - 1] = id
                        }
                    }
                    continue
                }
                if absence { parts.absenceKeys.append(slot) } else { need += 1 }
                for condition in key.conditions {
                    accumulators[Int(path)].register(condition, slot: slot)
                }
            }
            var info = BranchInfo(
                policy: policyIndex, need: need, absenceStart: absenceStart,
                absenceCount: Int32(parts.absenceKeys.count) - absenceStart, isBody: isBody,
                deferredStart: deferredStart, deferredCount: Int32(parts.deferredKeys.count) - deferredStart)
            if info.deferredCount == 1 && parts.deferredStringIDs[Int(deferredStart)] >= 0 {
                // The branch's only deferred key is one exact string: checked from the branch
                // record itself, without reading the key's.
                info.inlineStringPath = parts.keySlots[Int(parts.deferredKeys[Int(deferredStart)])].path
                info.inlineStringID = parts.deferredStringIDs[Int(deferredStart)]
            }
            parts.branches.append(info)
            if need == 0 {
                if isBody { parts.alwaysCheckBody.append(branchIndex) } else { parts.alwaysCheckAttributes.append(branchIndex) }
            }
        }
    }

    mutating func pathID(isBody: Bool, _ name: String) -> Int32 {
        let key = PathName(isBody: isBody, name: name)
        if let id = pathIDs[key] { return id }
        let id = Int32(accumulators.count)
        pathIDs[key] = id
        accumulators.append(PathAccumulator())
        if isBody {
            // Body keys are split on "." so a dotted key and nesting reach the same trie node.
            var node: Int32 = 0
            for segment in name.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
                let edge = TrieEdge(node: node, segment: Array(segment))
                if let child = trieChildren[edge] {
                    node = child
                } else {
                    let child = Int32(parts.trieNodePath.count)
                    parts.trieNodePath.append(-1)
                    parts.trieNodeHasChildren.append(false)
                    parts.trieChildrenByString.append([:])
                    parts.trieNodeHasUnicodeChild.append(false)
                    parts.trieChildLengths.append(0)
                    parts.trieChildLengths[Int(node)] |= 1 << UInt64(min(edge.segment.count, 63))
                    parts.trieNodeHasChildren[Int(node)] = true
                    trieChildren[edge] = child
                    _ = parts.names.value(tag: TableKind.trieChild.tag(node), bytes: edge.segment) { child }
                    node = child
                }
            }
            parts.trieNodePath[Int(node)] = id
        } else {
            _ = parts.names.value(tag: TableKind.attributeName.tag(0), bytes: Array(name.utf8)) { id }
            attributeNames[name] = id
        }
        return id
    }

    /// Names are compared as Swift Strings by the reference (canonical equivalence). Where a set of
    /// names holds a non-ASCII one, keep them all by String too, for lookups that cannot be bytewise.
    mutating func finishNames() {
        for (name, id) in attributeNames where parts.attributeNamesByString[name] == nil {
            parts.attributeNamesByString[name] = id
        }
        parts.attributeNamesHaveUnicode = attributeNames.keys.contains { !isASCII($0) }
        for (edge, child) in trieChildren {
            let name = String(decoding: edge.segment, as: UTF8.self)
            if !isASCII(name) { parts.trieNodeHasUnicodeChild[Int(edge.node)] = true }
            if parts.trieChildrenByString[Int(edge.node)][name] == nil {
                parts.trieChildrenByString[Int(edge.node)][name] = child
            }
        }
    }

    mutating func addSlots(_ list: [Int32]) -> SlotRange {
        let start = Int32(parts.slots.count)
        for slot in list {
            let key = parts.keySlots[Int(slot)]
            parts.slots.append(slotEntry(slot, key))
        }
        return SlotRange(start: start, count: Int32(list.count))
    }

    /// What a hit on `slot` does: branches with one counted key skip the count (and, in attribute
    /// scope with nothing else to check, the candidate list too).
    func slotEntry(_ slot: Int32, _ key: KeySlot) -> SlotEntry {
        guard key.positiveOnly && key.counted else { return SlotEntry(slot: slot, .markOnly, 0) }
        let branch = parts.branches[Int(key.branch)]
        guard branch.need == 1 else { return SlotEntry(slot: slot, .countedBranch, key.branch) }
        if !branch.isBody && branch.absenceCount == 0 && branch.deferredCount == 0 {
            return SlotEntry(slot: slot, .policy, branch.policy)
        }
        // A single-key branch reads no key slot, so its entry carries the id of its first deferred
        // exact string instead: `finish` drops the candidate on that id before reading the branch.
        let deferred = Int(branch.deferredStart)..<Int(branch.deferredStart + branch.deferredCount)
        let stringID = deferred.first(where: { parts.deferredStringIDs[$0] >= 0 }).map { parts.deferredStringIDs[$0] } ?? -1
        return SlotEntry(slot: stringID, .singleKeyBranch, key.branch)
    }

    mutating func addTableEntry(_ kind: TableKind, path: Int32, bytes: [UInt8], slots: [Int32]) {
        let range = addSlots(slots)
        let index = Int32(parts.tableRanges.count)
        parts.tableRanges.append(range)
        let single = range.count == 1 ? parts.slots[Int(range.start)] : nil
        _ = parts.strings.value(tag: kind.tag(path), bytes: bytes, range: range, single: single) { index }
    }

    mutating func finish() -> CompiledParts {
        for (id, policy) in pending { compile(id: id, policy: policy) }
        finishNames()
        for (index, acc) in accumulators.enumerated() {
            let path = Int32(index)
            var info = PathInfo()

            for (bytes, list) in acc.exact { addTableEntry(.exact, path: path, bytes: bytes, slots: list) }
            for (bytes, list) in acc.equalsIgnoreCase { addTableEntry(.equalsIgnoreCase, path: path, bytes: bytes, slots: list) }
            for (bytes, list) in acc.prefixes { addTableEntry(.prefix, path: path, bytes: bytes, slots: list) }
            for (bytes, list) in acc.suffixes { addTableEntry(.suffix, path: path, bytes: bytes, slots: list) }
            if !acc.exact.isEmpty { info.flags.insert(.exact) }
            if !acc.equalsIgnoreCase.isEmpty { info.flags.insert(.equalsIgnoreCase) }
            if !acc.prefixes.isEmpty { info.flags.insert(.prefix) }
            if !acc.suffixes.isEmpty { info.flags.insert(.suffix) }

            let prefixLengths = Set(acc.prefixes.keys.map { Int32($0.count) }).sorted()
            info.prefixLengthsStart = Int32(parts.lengths.count)
            info.prefixLengthsCount = Int32(prefixLengths.count)
            parts.lengths.append(contentsOf: prefixLengths)
            let suffixLengths = Set(acc.suffixes.keys.map { Int32($0.count) }).sorted()
            info.suffixLengthsStart = Int32(parts.lengths.count)
            info.suffixLengthsCount = Int32(suffixLengths.count)
            parts.lengths.append(contentsOf: suffixLengths)

            if !acc.exactNumbers.isEmpty { info.flags.insert(.exactNumber) }
            for (_, entry) in acc.exactNumbers {
                let range = addSlots(entry.1)
                let tableIndex = Int32(parts.tableRanges.count)
                parts.tableRanges.append(range)
                parts.numbers.append((path, entry.0, tableIndex))
            }

            if !acc.ranges.isEmpty {
                info.flags.insert(.ranges)
                let tree = RangeTreeBuilder(ranges: acc.ranges.map { ($0.key, $0.value) })
                info.rangeEndsStart = Int32(parts.rangeEnds.count)
                info.rangeEndsCount = Int32(tree.ends.count)
                parts.rangeEnds.append(contentsOf: tree.ends)
                info.treeStart = Int32(parts.treeNodes.count)
                info.treeLeaves = Int32(tree.leafCount)
                for node in tree.nodes { parts.treeNodes.append(addSlots(node)) }
                info.unboundedRanges = addSlots(acc.ranges.filter { $0.key.lower == nil && $0.key.upper == nil }.flatMap(\.value))
            }

            info.anythingButStart = Int32(parts.anythingBut.count)
            for (_, (condition, list)) in acc.anythingBut {
                let slots = addSlots(list)
                let conditionIndex = Int32(parts.anythingBut.count)
                switch condition {
                case .strings(let values):
                    info.flags.insert(.stringAnythingBut)
                    let tag = TableKind.anythingBut.tag(conditionIndex)
                    for v in values { _ = parts.strings.value(tag: tag, bytes: Array(v.utf8)) { 0 } }
                    parts.anythingBut.append(AnythingButCondition(kind: .strings, slots: slots, tag: tag, dataStart: 0, dataCount: 0))
                case .numbers(let values):
                    info.flags.insert(.numberAnythingBut)
                    parts.anythingBut.append(AnythingButCondition(
                        kind: .numbers, slots: slots, tag: 0, dataStart: Int32(parts.anythingButNumbers.count),
                        dataCount: Int32(values.count)))
                    parts.anythingButNumbers.append(contentsOf: values.map(FilterNumber.canonical))
                case .prefix(let p):
                    info.flags.insert(.stringAnythingBut)
                    parts.anythingBut.append(AnythingButCondition(
                        kind: .prefix, slots: slots, tag: 0, dataStart: Int32(parts.anythingButBytes.count),
                        dataCount: Int32(p.utf8.count)))
                    parts.anythingButBytes.append(contentsOf: p.utf8)
                }
            }
            info.anythingButCount = Int32(parts.anythingBut.count) - info.anythingButStart

            if !acc.cidr.isEmpty { info.flags.insert(.cidr) }
            info.cidrStart = Int32(parts.cidrBlocks.count)
            for (block, list) in acc.cidr { parts.cidrBlocks.append((block, addSlots(list))) }
            info.cidrCount = Int32(parts.cidrBlocks.count) - info.cidrStart

            info.existsTrue = addSlots(acc.existsTrue)
            info.isTrue = addSlots(acc.isTrue)
            info.isFalse = addSlots(acc.isFalse)
            info.isNull = addSlots(acc.isNull)

            if acc.deferred { info.flags.insert(.deferred) }
            if acc.deferredStrings { info.flags.insert(.deferredStrings) }
            if info.flags.intersection(.anyNumber) == .exactNumber {
                let values = acc.exactNumbers.values.map(\.0)
                if let low = values.min(), let high = values.max() {
                    info.numberLow = NumberGuard.below(low)
                    info.numberHigh = NumberGuard.above(high)
                }
            }
            parts.paths.append(info)
        }
        return parts
    }
}
