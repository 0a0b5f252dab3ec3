/// The compiled form of every policy on a topic: plain-old-data records in flat buffers, read by the
/// matcher without locks, ARC or allocation. Built by `PolicyMatcherBuilder`, owned (and freed) by one
/// `CompiledStorage` per immutable snapshot.

/// One element of a slot list: the key slot a condition satisfies, with what a hit does inlined so
/// it touches no other table. `target`'s top two bits say what (`Target`), the rest is an index.
@usableFromInline
struct SlotEntry: Sendable {
    @usableFromInline var slot: Int32
    @usableFromInline var target: UInt32

    @usableFromInline
    enum Target: UInt32 {
        /// The branch (index) counts its satisfied keys; it is a candidate once all are.
        case countedBranch = 0
        /// The branch's only counted key: a hit makes it a candidate, with no count to keep.
        /// `slot` then holds the id of the branch's first deferred exact string (-1 if none).
        case singleKeyBranch = 1
        /// Attribute scope, one key and nothing else to check: a hit matches the policy (index).
        case policy = 2
        /// Keys that also hold by absence, or mark-only deferred keys: the mark is all.
        case markOnly = 3
    }

    /// Indexes above this do not fit beside the two tag bits.
    static let maxIndex = 0x3FFF_FFFF

    init(slot: Int32, _ kind: Target, _ index: Int32) {
        precondition(Int(index) <= SlotEntry.maxIndex, "too many branches or policies in one matcher")
        self.slot = slot
        self.target = kind.rawValue << 30 | UInt32(index)
    }
}

/// One condition of a field-checked deferred key, in plain data (no ARC when checking).
@usableFromInline
struct DeferredCheck: Sendable {
    @usableFromInline enum Kind: UInt8, Sendable { case exactString, exactNumber, numeric, existsTrue, anythingButStrings, anythingButNumbers, other }
    @usableFromInline var kind: Kind
    @usableFromInline var range: NumericRange
    /// exactString: its bytes in `deferredBytes`. anything-but strings: (start, count) pairs in
    /// `deferredSpans`. anything-but numbers: values in `deferredNumbers`. other: the condition's
    /// index in its key's `deferredConditions` entry.
    @usableFromInline var dataStart: Int32
    @usableFromInline var dataCount: Int32
}

/// A deferred key: its slot (for the mark-only check), path, and field checks.
@usableFromInline
struct DeferredKey: Sendable {
    @usableFromInline var slot: Int32
    @usableFromInline var path: Int32
    @usableFromInline var checks: SlotRange
    @usableFromInline var byFields: Bool
    /// When the key is one exact string: its id (see `RecordedField.stringID`), else -1.
    @usableFromInline var stringID: Int32
    /// When the key is one numeric or exact-number condition with finite (or no) bounds: true, and
    /// it holds for a recorded number in `numberLow...numberHigh` (exclusive bounds stored as the
    /// next double inward), so the check reads no `DeferredCheck` record (on a busy topic a cache
    /// miss per candidate).
    @usableFromInline var byNumberRange: Bool = false
    @usableFromInline var numberLow: Double = -.infinity
    @usableFromInline var numberHigh: Double = .infinity
}

/// A field kept for deferred keys.
@usableFromInline
struct RecordedField {
    @usableFromInline enum Kind: UInt8 { case string, number, isTrue, isFalse, null }
    @usableFromInline var path: Int32
    @usableFromInline var kind: Kind
    @usableFromInline var number: Double
    /// A string's id among its path's deferred exact strings, -1 when it is none of them (or is
    /// not a string).
    @usableFromInline var stringID: Int32
    @usableFromInline var start: Int
    @usableFromInline var count: Int

    @inlinable init(path: Int32, kind: Kind, number: Double, stringID: Int32, start: Int, count: Int) {
        self.path = path
        self.kind = kind
        self.number = number
        self.stringID = stringID
        self.start = start
        self.count = count
    }
}

/// Table tags: which logical map an entry of the shared byte table belongs to (low 3 bits) and which
/// path/condition/trie node it is for (the rest).
@usableFromInline
enum TableKind: UInt32 {
    case exact = 0, prefix = 1, suffix = 2, equalsIgnoreCase = 3, anythingBut = 4, trieChild = 5, attributeName = 6
    /// The exact strings of a path's deferred keys (value: the string's id).
    case deferredString = 7

    @inlinable @inline(__always)
    func tag(_ id: Int32) -> UInt32 { (UInt32(bitPattern: id) << 3) | rawValue }
}

/// One key of one DNF branch. A field hitting any of its conditions satisfies it.
@usableFromInline
struct KeySlot: Sendable {
    @usableFromInline var branch: Int32
    @usableFromInline var path: Int32
    /// False when the key also holds by absence (`exists: false`); such keys are checked at the end.
    @usableFromInline var positiveOnly: Bool
    /// False for deferred keys: a hit only marks them (their branch does not count it).
    @usableFromInline var counted: Bool = true

    @inlinable init(branch: Int32, path: Int32, positiveOnly: Bool) {
        self.branch = branch
        self.path = path
        self.positiveOnly = positiveOnly
    }
}

/// One DNF branch: it holds when its `need` positive-only keys were hit and each absence-capable key
/// (listed in `CompiledStorage.absenceKeys`) was hit or its path has no non-null field.
@usableFromInline
struct BranchInfo: Sendable {
    @usableFromInline var policy: Int32
    @usableFromInline var need: Int32
    @usableFromInline var absenceStart: Int32
    @usableFromInline var absenceCount: Int32
    @usableFromInline var isBody: Bool
    /// Broad keys checked directly against the recorded fields (see `deferredKeys`).
    @usableFromInline var deferredStart: Int32
    @usableFromInline var deferredCount: Int32
    /// When the only deferred key is one exact string: its path and string id (else id -1).
    @usableFromInline var inlineStringPath: Int32 = 0
    @usableFromInline var inlineStringID: Int32 = -1

    init(policy: Int32, need: Int32, absenceStart: Int32, absenceCount: Int32, isBody: Bool, deferredStart: Int32, deferredCount: Int32) {
        self.policy = policy
        self.need = need
        self.absenceStart = absenceStart
        self.absenceCount = absenceCount
        self.isBody = isBody
        self.deferredStart = deferredStart
        self.deferredCount = deferredCount
    }
}

/// What one path's index holds. Ranges point into the storage's shared buffers.
@usableFromInline
struct PathInfo: Sendable {
    @usableFromInline struct Flags: OptionSet, Sendable {
        @usableFromInline let rawValue: UInt32
        @inlinable init(rawValue: UInt32) { self.rawValue = rawValue }
        @usableFromInline static let exact = Flags(rawValue: 1 << 0)
        @usableFromInline static let prefix = Flags(rawValue: 1 << 1)
        @usableFromInline static let suffix = Flags(rawValue: 1 << 2)
        @usableFromInline static let equalsIgnoreCase = Flags(rawValue: 1 << 3)
        @usableFromInline static let stringAnythingBut = Flags(rawValue: 1 << 8)
        @usableFromInline static let cidr = Flags(rawValue: 1 << 9)
        @usableFromInline static let exactNumber = Flags(rawValue: 1 << 10)
        @usableFromInline static let ranges = Flags(rawValue: 1 << 11)
        @usableFromInline static let numberAnythingBut = Flags(rawValue: 1 << 12)
        /// A deferred key reads this path: its fields are recorded for the end-of-message check.
        @usableFromInline static let deferred = Flags(rawValue: 1 << 13)
        /// Some deferred key is one exact string: recorded strings get their id.
        @usableFromInline static let deferredStrings = Flags(rawValue: 1 << 14)

        @usableFromInline static let anyString: Flags = [.exact, .prefix, .suffix, .equalsIgnoreCase, .stringAnythingBut, .cidr]
        @usableFromInline static let anyNumber: Flags = [.exactNumber, .ranges, .numberAnythingBut, .deferred]
    }

    // The fields every number reads first, together at the start of the record.
    @usableFromInline var flags: Flags = []
    @usableFromInline var existsTrue = SlotRange.empty
    /// When exact numbers are the path's only numeric conditions: a number whose approximate
    /// reading is outside [numberLow, numberHigh] surely rounds outside the lowest and highest of
    /// them, so it is dropped before the exact rounding and the lookup (see `NumberGuard`).
    /// Infinite otherwise.
    @usableFromInline var numberLow: Double = -.infinity
    @usableFromInline var numberHigh: Double = .infinity
    @usableFromInline var isTrue = SlotRange.empty
    @usableFromInline var isFalse = SlotRange.empty
    @usableFromInline var isNull = SlotRange.empty
    @usableFromInline var prefixLengthsStart: Int32 = 0
    @usableFromInline var prefixLengthsCount: Int32 = 0
    @usableFromInline var suffixLengthsStart: Int32 = 0
    @usableFromInline var suffixLengthsCount: Int32 = 0
    /// Sorted exact numbers, range endpoints and anything-but numbers: an approximate reading of a
    /// number far from all of them gives the same answers as the exact value.
    @usableFromInline var rangeEndsStart: Int32 = 0
    @usableFromInline var rangeEndsCount: Int32 = 0
    @usableFromInline var treeStart: Int32 = 0
    @usableFromInline var treeLeaves: Int32 = 0
    /// Ranges with no bound at all: they also hold for NaN (which the tree cannot place).
    @usableFromInline var unboundedRanges = SlotRange.empty
    @usableFromInline var anythingButStart: Int32 = 0
    @usableFromInline var anythingButCount: Int32 = 0
    @usableFromInline var cidrStart: Int32 = 0
    @usableFromInline var cidrCount: Int32 = 0

    @usableFromInline init() {}
}

/// One distinct `anything-but` condition of a path.
@usableFromInline
struct AnythingButCondition: Sendable {
    @usableFromInline enum Kind: UInt8, Sendable { case strings, numbers, prefix }
    @usableFromInline var kind: Kind
    @usableFromInline var slots: SlotRange
    /// Strings: the byte-table tag of its value set.
    @usableFromInline var tag: UInt32
    /// Numbers: its values in `anythingButNumbers`. Prefix: its bytes in `anythingButBytes`.
    @usableFromInline var dataStart: Int32
    @usableFromInline var dataCount: Int32
}

/// Path names compared as Swift Strings, as the reference does (`==` is canonical equivalence), for
/// the rare non-ASCII names: a trie node's children, or the attribute names.
@usableFromInline
final class UnicodeNames: Sendable {
    @usableFromInline let names: [String: Int32]
    init(_ names: [String: Int32]) { self.names = names }
}

@usableFromInline
func isASCII(_ s: String) -> Bool {
    s.utf8.allSatisfy { $0 < 0x80 }
}

/// Everything one matcher snapshot reads. Immutable after init; buffers freed in deinit.
@usableFromInline
final class CompiledStorage: @unchecked Sendable {
    // Policies and branches.
    @usableFromInline let policyIDs: Frozen<Int>
    @usableFromInline let keySlots: Frozen<KeySlot>
    @usableFromInline let branches: Frozen<BranchInfo>
    @usableFromInline let absenceKeys: Frozen<Int32>
    /// Deferred key slots of all branches, and their conditions: empty for deferred keys that are
    /// indexed mark-only (checked by stamp), else checked against the recorded fields.
    @usableFromInline let deferredKeys: Frozen<Int32>
    /// Everything a deferred-key check needs, in one record (one cache line per candidate key).
    @usableFromInline let deferredRecords: Frozen<DeferredKey>
    @usableFromInline let deferredConditions: [[Condition]]
    @usableFromInline let deferredByFields: Frozen<Bool>
    /// Per deferred key: its checks (start, count) in `deferredChecks`.
    @usableFromInline let deferredCheckRanges: Frozen<SlotRange>
    @usableFromInline let deferredChecks: Frozen<DeferredCheck>
    @usableFromInline let deferredBytes: Frozen<UInt8>
    @usableFromInline let deferredSpans: Frozen<SlotRange>
    @usableFromInline let deferredNumbers: Frozen<Double>
    /// Branches with no positive-only key: they may hold with no hit at all, so they are checked on
    /// every message (attribute scope first, then body scope).
    @usableFromInline let alwaysCheck: Frozen<Int32>
    @usableFromInline let alwaysCheckBodyStart: Int
    /// Subscriptions with no policy: they receive everything.
    @usableFromInline let unfilteredIDs: [Int]
    @usableFromInline let hasAttributePolicies: Bool
    @usableFromInline let hasBodyPolicies: Bool

    // Path indexes.
    @usableFromInline let paths: Frozen<PathInfo>
    @usableFromInline let slots: Frozen<SlotEntry>
    /// Per branch: how many positive-only keys it needs (copied out of `branches` for locality).
    @usableFromInline let branchNeed: Frozen<UInt32>
    @usableFromInline let strings: ByteTable
    /// Attribute names and body trie children, apart from the values so these per-field lookups
    /// probe a table small enough to stay in cache however many values the policies list.
    @usableFromInline let names: ByteTable
    /// What a string-table entry of kind exact/prefix/suffix/equalsIgnoreCase maps to.
    @usableFromInline let tableRanges: Frozen<SlotRange>
    @usableFromInline let numbers: NumberTable
    @usableFromInline let lengths: Frozen<Int32>
    @usableFromInline let rangeEnds: Frozen<Double>
    @usableFromInline let treeNodes: Frozen<SlotRange>
    @usableFromInline let anythingBut: Frozen<AnythingButCondition>
    @usableFromInline let anythingButNumbers: Frozen<Double>
    @usableFromInline let anythingButBytes: Frozen<UInt8>
    @usableFromInline let cidrBlocks: [(CIDRBlock, SlotRange)]

    // Body path trie: child of (node, segment) in `names` under tag trieChild(node).
    @usableFromInline let trieNodePath: Frozen<Int32>
    @usableFromInline let trieNodeHasChildren: Frozen<Bool>
    /// Per trie node: its children by Swift String, for key segments that cannot be looked up by
    /// bytes (the segment or some child name is not ASCII).
    @usableFromInline let trieChildrenByString: [UnicodeNames]
    @usableFromInline let trieNodeHasUnicodeChild: Frozen<Bool>
    /// Per trie node: bit min(length, 63) is set when some child segment has that byte length.
    @usableFromInline let trieChildLengths: Frozen<UInt64>
    /// Attribute-scope path names by Swift String, likewise.
    @usableFromInline let attributeNamesByString: UnicodeNames
    @usableFromInline let attributeNamesHaveUnicode: Bool
    @usableFromInline let powersOfTen: Frozen<Double>

    init(_ parts: CompiledParts) {
        policyIDs = Frozen(parts.policyIDs)
        keySlots = Frozen(parts.keySlots)
        branches = Frozen(parts.branches)
        absenceKeys = Frozen(parts.absenceKeys)
        deferredKeys = Frozen(parts.deferredKeys)
        deferredConditions = parts.deferredConditions
        deferredByFields = Frozen(parts.deferredConditions.map { !$0.isEmpty })
        var checkRanges: [SlotRange] = []
        var checks: [DeferredCheck] = []
        var checkBytes: [UInt8] = []
        var checkSpans: [SlotRange] = []
        var checkNumbers: [Double] = []
        let any = NumericRange(lower: nil, lowerInclusive: false, upper: nil, upperInclusive: false)
        for conditions in parts.deferredConditions {
            checkRanges.append(SlotRange(start: Int32(checks.count), count: Int32(conditions.count)))
            for (i, condition) in conditions.enumerated() {
                var check = DeferredCheck(kind: .other, range: any, dataStart: Int32(i), dataCount: 0)
                switch condition {
                case .exactString(let text):
                    check.kind = .exactString
                    check.dataStart = Int32(checkBytes.count)
                    check.dataCount = Int32(text.utf8.count)
                    checkBytes.append(contentsOf: text.utf8)
                case .exactNumber(let n):
                    check.kind = .exactNumber
                    check.range = .equals(FilterNumber.canonical(n))
                case .numeric(let r):
                    check.kind = .numeric
                    check.range = r.canonical
                case .exists(true):
                    check.kind = .existsTrue
                case .anythingBut(.strings(let list)):
                    check.kind = .anythingButStrings
                    check.dataStart = Int32(checkSpans.count)
                    check.dataCount = Int32(list.count)
                    for text in list {
                        checkSpans.append(SlotRange(start: Int32(checkBytes.count), count: Int32(text.utf8.count)))
                        checkBytes.append(contentsOf: text.utf8)
                    }
                case .anythingBut(.numbers(let list)):
                    check.kind = .anythingButNumbers
                    check.dataStart = Int32(checkNumbers.count)
                    check.dataCount = Int32(list.count)
                    checkNumbers.append(contentsOf: list.map(FilterNumber.canonical))
                default:
                    break
                }
                checks.append(check)
            }
        }
        deferredCheckRanges = Frozen(checkRanges)
        deferredRecords = Frozen(parts.deferredKeys.indices.map { i in
            var key = DeferredKey(
                slot: parts.deferredKeys[i], path: parts.keySlots[Int(parts.deferredKeys[i])].path,
                checks: checkRanges[i], byFields: !parts.deferredConditions[i].isEmpty,
                stringID: parts.deferredStringIDs[i])
            let range = checkRanges[i]
            if range.count == 1, let bounds = closedBounds(checks[Int(range.start)]) {
                (key.byNumberRange, key.numberLow, key.numberHigh) = (true, bounds.low, bounds.high)
            }
            return key
        })
        deferredChecks = Frozen(checks)
        deferredBytes = Frozen(checkBytes)
        deferredSpans = Frozen(checkSpans)
        deferredNumbers = Frozen(checkNumbers)
        alwaysCheck = Frozen(parts.alwaysCheckAttributes + parts.alwaysCheckBody)
        alwaysCheckBodyStart = parts.alwaysCheckAttributes.count
        unfilteredIDs = parts.unfilteredIDs
        hasAttributePolicies = parts.hasAttributePolicies
        hasBodyPolicies = parts.hasBodyPolicies
        paths = Frozen(parts.paths)
        slots = Frozen(parts.slots)
        branchNeed = Frozen(parts.branches.map { UInt32($0.need) })
        strings = parts.strings.freeze()
        names = parts.names.freeze()
        tableRanges = Frozen(parts.tableRanges)
        numbers = NumberTable(parts.numbers)
        lengths = Frozen(parts.lengths)
        rangeEnds = Frozen(parts.rangeEnds)
        treeNodes = Frozen(parts.treeNodes)
        anythingBut = Frozen(parts.anythingBut)
        anythingButNumbers = Frozen(parts.anythingButNumbers)
        anythingButBytes = Frozen(parts.anythingButBytes)
        cidrBlocks = parts.cidrBlocks
        trieChildrenByString = parts.trieChildrenByString.map(UnicodeNames.init)
        trieNodeHasUnicodeChild = Frozen(parts.trieNodeHasUnicodeChild)
        trieChildLengths = Frozen(parts.trieChildLengths)
        attributeNamesByString = UnicodeNames(parts.attributeNamesByString)
        attributeNamesHaveUnicode = parts.attributeNamesHaveUnicode
        trieNodePath = Frozen(parts.trieNodePath)
        trieNodeHasChildren = Frozen(parts.trieNodeHasChildren)
        powersOfTen = Frozen(DecimalNumber.powersOfTen)
    }

    deinit {
        policyIDs.free(); keySlots.free(); branches.free(); absenceKeys.free(); deferredKeys.free(); deferredRecords.free(); deferredByFields.free(); deferredCheckRanges.free(); deferredChecks.free(); deferredBytes.free(); deferredSpans.free(); deferredNumbers.free(); alwaysCheck.free()
        paths.free(); slots.free(); branchNeed.free(); strings.free(); names.free(); tableRanges.free(); numbers.free(); lengths.free()
        rangeEnds.free(); treeNodes.free(); anythingBut.free(); anythingButNumbers.free()
        anythingButBytes.free(); trieNodePath.free(); trieNodeHasChildren.free(); trieNodeHasUnicodeChild.free(); trieChildLengths.free(); powersOfTen.free()
    }
}

/// The builder's output before freezing.
struct CompiledParts {
    var policyIDs: [Int] = []
    var keySlots: [KeySlot] = []
    var branches: [BranchInfo] = []
    var absenceKeys: [Int32] = []
    var deferredKeys: [Int32] = []
    var deferredConditions: [[Condition]] = []
    /// Per deferred key: its string id when it is one exact string, else -1.
    var deferredStringIDs: [Int32] = []
    var deferredStringCount: Int32 = 0
    var alwaysCheckAttributes: [Int32] = []
    var alwaysCheckBody: [Int32] = []
    var unfilteredIDs: [Int] = []
    var hasAttributePolicies = false
    var hasBodyPolicies = false
    var paths: [PathInfo] = []
    var slots: [SlotEntry] = []
    var strings = ByteTableBuilder()
    var names = ByteTableBuilder()
    var tableRanges: [SlotRange] = []
    var numbers: [(path: Int32, value: Double, result: Int32)] = []
    var lengths: [Int32] = []
    var rangeEnds: [Double] = []
    var treeNodes: [SlotRange] = []
    var anythingBut: [AnythingButCondition] = []
    var anythingButNumbers: [Double] = []
    var anythingButBytes: [UInt8] = []
    var cidrBlocks: [(CIDRBlock, SlotRange)] = []
    var trieChildrenByString: [[String: Int32]] = [[:]]
    var trieNodeHasUnicodeChild: [Bool] = [false]
    var trieChildLengths: [UInt64] = [0]
    var attributeNamesByString: [String: Int32] = [:]
    var attributeNamesHaveUnicode = false
    var trieNodePath: [Int32] = [-1]
    var trieNodeHasChildren: [Bool] = [false]
}

/// A numeric or exact-number check as the closed interval of doubles it holds for, or nil when it
/// is another kind, or has an infinite bound or none (kept on the general path). `v > a` is `v >= a.nextUp`
/// for every double `v` when `a` is finite (NaN fails both), and likewise `v < b` is `v <= b.nextDown`.
func closedBounds(_ check: DeferredCheck) -> (low: Double, high: Double)? {
    guard check.kind == .numeric || check.kind == .exactNumber else { return nil }
    let r = check.range
    // No bound at all holds even for NaN, which a closed interval cannot say.
    guard r.lower != nil || r.upper != nil else { return nil }
    var low = -Double.infinity, high = Double.infinity
    if let lower = r.lower {
        guard lower.isFinite else { return nil }
        low = r.lowerInclusive ? lower : lower.nextUp
    }
    if let upper = r.upper {
        guard upper.isFinite else { return nil }
        high = r.upperInclusive ? upper : upper.nextDown
    }
    return (low, high)
}
