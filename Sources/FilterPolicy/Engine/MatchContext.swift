import CFilterScan
import HeraldCore

/// The state of matching one message: raw pointers into the compiled snapshot and into the scratch,
/// copied into a struct so the hot loops see plain loads and stores (no ARC, no exclusivity checks).
/// Valid only during one `PolicyMatcher.match` call.
@usableFromInline
struct MatchContext {
    @usableFromInline unowned(unsafe) let storage: CompiledStorage
    @usableFromInline let state: UnsafeMutablePointer<ScratchState>
    @usableFromInline let keySlots: UnsafeMutablePointer<KeySlot>
    @usableFromInline let branches: UnsafeMutablePointer<BranchInfo>
    @usableFromInline let slots: UnsafeMutablePointer<SlotEntry>
    @usableFromInline let branchNeed: UnsafeMutablePointer<UInt32>
    @usableFromInline let paths: UnsafeMutablePointer<PathInfo>
    @usableFromInline let strings: ByteTable
    @usableFromInline let names: ByteTable
    @usableFromInline let tableRanges: UnsafeMutablePointer<SlotRange>
    @usableFromInline let lengths: UnsafeMutablePointer<Int32>
    @usableFromInline let rangeEnds: UnsafeMutablePointer<Double>
    @usableFromInline let treeNodes: UnsafeMutablePointer<SlotRange>
    @usableFromInline let trieNodePath: UnsafeMutablePointer<Int32>
    @usableFromInline let trieNodeHasChildren: UnsafeMutablePointer<Bool>
    @usableFromInline let trieNodeHasUnicodeChild: UnsafeMutablePointer<Bool>
    @usableFromInline let trieChildLengths: UnsafeMutablePointer<UInt64>
    @usableFromInline let powersOfTen: UnsafeMutablePointer<Double>
    @usableFromInline let generation: UInt32
    @usableFromInline let keyStamp: UnsafeMutablePointer<UInt32>
    @usableFromInline let branchState: UnsafeMutablePointer<UInt64>
    @usableFromInline let pathStamp: UnsafeMutablePointer<UInt32>
    @usableFromInline let policyStamp: UnsafeMutablePointer<UInt32>
    @usableFromInline let candidates: UnsafeMutablePointer<UInt32>
    @usableFromInline let candidateStrings: UnsafeMutablePointer<Int32>
    @usableFromInline let candidateCapacity: Int
    @usableFromInline var candidateCount = 0
    @usableFromInline var recordedCount = 0
    @usableFromInline var recordedByteCount = 0
    /// Bit `id & 63` set for every recorded field's deferred string id: a candidate whose id's bit
    /// is clear is dropped with a register test instead of a pass over the recorded fields.
    @usableFromInline var recordedIDBits: UInt64 = 0

    init(storage: CompiledStorage, state: UnsafeMutablePointer<ScratchState>) {
        self.storage = storage
        self.state = state
        keySlots = storage.keySlots.base
        branches = storage.branches.base
        slots = storage.slots.base
        branchNeed = storage.branchNeed.base
        paths = storage.paths.base
        strings = storage.strings
        names = storage.names
        tableRanges = storage.tableRanges.base
        lengths = storage.lengths.base
        rangeEnds = storage.rangeEnds.base
        treeNodes = storage.treeNodes.base
        trieNodePath = storage.trieNodePath.base
        trieNodeHasChildren = storage.trieNodeHasChildren.base
        trieNodeHasUnicodeChild = storage.trieNodeHasUnicodeChild.base
        trieChildLengths = storage.trieChildLengths.base
        powersOfTen = storage.powersOfTen.base
        generation = state.pointee.generation
        keyStamp = state.pointee.keyStamp.base
        branchState = state.pointee.branchState.base
        pathStamp = state.pointee.pathStamp.base
        policyStamp = state.pointee.policyStamp.base
        candidates = state.pointee.candidates.base
        candidateStrings = state.pointee.candidateStrings.base
        candidateCapacity = state.pointee.candidates.capacity
    }

    // MARK: Slots and branches

    /// Marks every key slot of `range` satisfied; a branch whose positive keys are now all satisfied
    /// becomes a candidate (absence keys and body validity are checked in `finish`).
    @inlinable @inline(__always)
    mutating func hit(_ range: SlotRange) {
        hit(UnsafeRawPointer(slots + Int(range.start)), Int(range.count))
    }

    /// `count` slot entries at `entries`: a run of `slots`, or the one a table bucket keeps itself
    /// (`ByteTable.findSlots`). Read as raw words, as both places store them.
    @inlinable @inline(__always)
    mutating func hit(_ entries: UnsafeRawPointer, _ count: Int) {
        var i = 0
        let stamp = UInt64(generation) << 32
        while i < count {
            let entry = entries.load(fromByteOffset: i &* MemoryLayout<SlotEntry>.stride, as: SlotEntry.self)
            i &+= 1
            let kind = entry.target >> 30
            let b = Int(entry.target & 0x3FFF_FFFF)
            if kind == SlotEntry.Target.policy.rawValue {
                // No key mark needed: nothing else reads this key's slot.
                if policyStamp[b] != generation { matchPolicy(b) }
                continue
            }
            if kind == SlotEntry.Target.singleKeyBranch.rawValue {
                // No key mark either: a branch listed twice (its key hit twice) is checked twice,
                // which `accept` allows; the list is compacted if duplicates ever fill it.
                if candidateCount == candidateCapacity { compactCandidates() }
                candidates[candidateCount] = UInt32(truncatingIfNeeded: b)
                candidateStrings[candidateCount] = entry.slot
                candidateCount &+= 1
                continue
            }
            let s = Int(entry.slot)
            if keyStamp[s] == generation { continue }
            keyStamp[s] = generation
            if kind == SlotEntry.Target.markOnly.rawValue { continue }
            let state = branchState[b]
            let count: UInt64 = state & 0xFFFF_FFFF_0000_0000 == stamp ? (state & 0xFFFF_FFFF) &+ 1 : 1
            branchState[b] = stamp | count
            if count == UInt64(branchNeed[b]) {
                candidates[candidateCount] = UInt32(truncatingIfNeeded: b)
                candidateStrings[candidateCount] = -1
                candidateCount &+= 1
            }
        }
    }

    /// Drops repeated single-key branches from the candidate list (marked in their `branchState`,
    /// which only counted branches use otherwise; counted branches are listed once by construction).
    /// Afterwards at most `branches.count` remain, half the capacity; the marks are cleared again.
    @usableFromInline
    mutating func compactCandidates() {
        let mark = UInt64(generation) << 32 | 0xFFFF_FFFF
        var kept = 0
        for i in 0..<candidateCount {
            let b = Int(candidates[i])
            if branchNeed[b] == 1 {
                if branchState[b] == mark { continue }
                branchState[b] = mark
            }
            candidates[kept] = candidates[i]
            candidateStrings[kept] = candidateStrings[i]
            kept += 1
        }
        candidateCount = kept
        // Unmark, so a later compaction of this message keeps them again.
        for i in 0..<kept where branchNeed[Int(candidates[i])] == 1 { branchState[Int(candidates[i])] = 0 }
    }

    /// Records policy `policy` as matched (its stamp keeps it from being listed twice).
    @usableFromInline
    func matchPolicy(_ policy: Int) {
        policyStamp[policy] = generation
        state.pointee.matchedIDs.append(storage.policyIDs[policy])
    }

    @inlinable @inline(__always)
    func markPresent(_ path: Int32) {
        pathStamp[Int(path)] = generation
    }

    mutating func finish(attributesEmpty: Bool, bodyValid: Bool) {
        // Most candidates of a shared anchor fail on their first deferred string: checked here
        // against the few recorded ids, so those never load their branch record. The rest are kept
        // and their records asked for together (on a busy topic each is a cache miss), then what
        // `accept` reads next (deferred key record, policy stamp), then they are accepted.
        var kept = 0
        for i in 0..<candidateCount {
            let id = candidateStrings[i]
            if id >= 0 && !recordedStringIDHolds(id) { continue }
            let b = candidates[i]
            candidates[kept] = b
            kept &+= 1
            cfs_prefetch(branches + Int(b))
        }
        candidateCount = kept
        if kept > 1 {
            let records = storage.deferredRecords.base
            for i in 0..<kept {
                let branch = branches + Int(candidates[i])
                if branch.pointee.deferredCount != 0 { cfs_prefetch(records + Int(branch.pointee.deferredStart)) }
                cfs_prefetch(policyStamp + Int(branch.pointee.policy))
            }
        }
        for i in 0..<kept {
            accept(Int(candidates[i]), attributesEmpty: attributesEmpty, bodyValid: bodyValid)
        }
        let always = storage.alwaysCheck
        let bodyStart = storage.hasBodyPolicies && bodyValid ? always.count : storage.alwaysCheckBodyStart
        for i in 0..<bodyStart {
            accept(Int(always[i]), attributesEmpty: attributesEmpty, bodyValid: bodyValid)
        }
    }

    private func accept(_ b: Int, attributesEmpty: Bool, bodyValid: Bool) {
        let branch = branches[b]
        if branch.isBody && !bodyValid { return }
        // Deferred keys first: most candidates fail there, before the policy's stamp is read.
        var d = Int(branch.deferredStart)
        let deferredEnd = d + Int(branch.deferredCount)
        if branch.inlineStringID >= 0 {
            if !recordedStringHolds(branch.inlineStringPath, branch.inlineStringID) { return }
            d = deferredEnd
        }
        while d < deferredEnd {
            if !deferredKeyHolds(d) { return }
            d += 1
        }
        let policy = Int(branch.policy)
        if policyStamp[policy] == generation { return }
        let inputEmpty = branch.isBody ? false : attributesEmpty
        var k = Int(branch.absenceStart)
        let end = k + Int(branch.absenceCount)
        while k < end {
            let s = Int(storage.absenceKeys[k])
            k += 1
            if keyStamp[s] == generation { continue }
            // exists:false holds when no non-null field is at the path and the input is not empty.
            if inputEmpty || pathStamp[Int(keySlots[s].path)] == generation { return }
        }
        matchPolicy(policy)
    }

    // MARK: Deferred keys

    /// Keeps a field of a path some deferred key reads (string bytes are copied: the value may
    /// live in a buffer that is reused).
    @inlinable
    mutating func record(_ path: Int32, _ kind: RecordedField.Kind, number: Double = 0, _ p: UnsafePointer<UInt8>? = nil, _ n: Int = 0, stringID: Int32 = -1) {
        state.pointee.recorded.reserve(recordedCount + 1, keep: recordedCount)
        var start = 0
        if let p {
            state.pointee.recordedBytes.reserve(recordedByteCount + n, keep: recordedByteCount)
            start = recordedByteCount
            (state.pointee.recordedBytes.base + start).update(from: p, count: n)
            recordedByteCount += n
        }
        state.pointee.recorded.base[recordedCount] = RecordedField(path: path, kind: kind, number: number, stringID: stringID, start: start, count: n)
        recordedCount += 1
        if stringID >= 0 { recordedIDBits |= 1 &<< UInt64(stringID & 63) }
    }

    /// Whether some recorded field at the deferred key's path satisfies one of its conditions
    /// (only asked for branches whose anchor hit). Common conditions are plain-data checks on the
    /// recorded bytes/values; the rest go through the reference's own `valueSatisfies`.
    func deferredKeyHolds(_ index: Int) -> Bool {
        let key = storage.deferredRecords[index]
        // Mark-only keys are indexed; keys checked by fields never are (their stamp is never set).
        if !key.byFields { return keyStamp[Int(key.slot)] == generation }
        if key.stringID >= 0 { return recordedStringHolds(key.path, key.stringID) }
        let path = key.path
        let fields = state.pointee.recorded.base
        if key.byNumberRange {
            for i in 0..<recordedCount where fields[i].path == path && fields[i].kind == .number {
                let v = fields[i].number
                if v >= key.numberLow && v <= key.numberHigh { return true }
            }
            return false
        }
        let bytes = state.pointee.recordedBytes.base
        let checks = key.checks
        let data = storage.deferredBytes.base
        for i in 0..<recordedCount where fields[i].path == path {
            let field = fields[i]
            let text = UnsafeBufferPointer(start: bytes + field.start, count: field.count)
            var c = Int(checks.start)
            let end = c + Int(checks.count)
            while c < end {
                let check = storage.deferredChecks[c]
                c += 1
                switch check.kind {
                case .existsTrue:
                    if field.kind != .null { return true }
                case .exactNumber, .numeric:
                    if field.kind == .number && check.range.contains(field.number) { return true }
                case .exactString:
                    if field.kind == .string && sameBytes(text, data + Int(check.dataStart), Int(check.dataCount)) { return true }
                case .anythingButStrings:
                    guard field.kind == .string else { continue }
                    var listed = false
                    for j in Int(check.dataStart)..<Int(check.dataStart + check.dataCount) {
                        let span = storage.deferredSpans[j]
                        if sameBytes(text, data + Int(span.start), Int(span.count)) { listed = true; break }
                    }
                    if !listed { return true }
                case .anythingButNumbers:
                    guard field.kind == .number else { continue }
                    let values = storage.deferredNumbers.base + Int(check.dataStart)
                    if !(0..<Int(check.dataCount)).contains(where: { values[$0] == field.number }) { return true }
                case .other:
                    if otherConditionHolds(index, Int(check.dataStart), field, text) { return true }
                }
            }
        }
        return false
    }

    /// Whether some recorded field is the deferred exact string `id` (ids are unique across paths).
    @inline(__always)
    func recordedStringIDHolds(_ id: Int32) -> Bool {
        if recordedIDBits & (1 &<< UInt64(id & 63)) == 0 { return false }
        let fields = state.pointee.recorded.base
        for i in 0..<recordedCount where fields[i].stringID == id { return true }
        return false
    }

    /// Whether a recorded field at `path` is the deferred exact string with id `id`.
    @inline(__always)
    func recordedStringHolds(_ path: Int32, _ id: Int32) -> Bool {
        if recordedIDBits & (1 &<< UInt64(id & 63)) == 0 { return false }
        let fields = state.pointee.recorded.base
        for i in 0..<recordedCount where fields[i].path == path && fields[i].stringID == id { return true }
        return false
    }

    func otherConditionHolds(_ key: Int, _ condition: Int, _ field: RecordedField, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let value: FilterValue
        switch field.kind {
        case .string: value = .string(String(decoding: text, as: UTF8.self))
        case .number: value = .number(field.number)
        case .isTrue: value = .boolean(true)
        case .isFalse: value = .boolean(false)
        case .null: value = .null
        }
        return ReferenceEvaluator.valueSatisfies(storage.deferredConditions[key][condition], value)
    }

    // MARK: Attribute scope

    /// Feeds the attributes some policy names: looking the policies' names up in the message when
    /// they are fewer, else the message's names up in the index. Both compare names as Swift
    /// Strings do (the message's dictionary does; the byte index is used for ASCII names only).
    mutating func attributeFields(_ attributes: MessageAttributes) {
        let byString = storage.attributeNamesByString.names
        if byString.count < attributes.count {
            // The value read in place, as in `walkAttributes` (no copies of its strings).
            let text = state.pointee.attributeText
            for (name, path) in byString {
                guard let i = attributes.index(forKey: name) else { continue }
                let field = plainValue(attributes, i, path, text.base, text.capacity)
                if field.path >= 0 {
                    plainField(field, text.base)
                } else if field.path == -2 {
                    attributeField(path: path, value: attributes.values[i])
                }
            }
            return
        }
        walkAttributes(attributes, byString)
    }

    /// The message's attributes looked up in the index, one by one. Out of line: the one-policy
    /// path above keeps its own small frame.
    @inline(never)
    mutating func walkAttributes(_ attributes: MessageAttributes, _ byString: [String: Int32]) {
        // By index, without the iterator's copy of the dictionary. Each element's name, data type
        // and text are read in a step that only reads and copies bytes (the text into scratch), so
        // the optimizer drops the copies of the element's strings and their reference counting.
        let nameTable = names
        let asciiNames = !storage.attributeNamesHaveUnicode
        let text = state.pointee.attributeText
        var i = attributes.startIndex
        let end = attributes.endIndex
        while i != end {
            let field = plainAttribute(attributes, i, nameTable, asciiNames, text.base, text.capacity)
            if field.path >= 0 {
                plainField(field, text.base)
            } else if field.path == -2 {
                // Anything else: the name by Swift String, the type by `filterKind`, long texts.
                let path = byString[attributes.keys[i]] ?? -1
                if path >= 0 { attributeField(path: path, value: attributes.values[i]) }
            }
            attributes.formIndex(after: &i)
        }
    }

    /// Feeds an attribute `plainValue` read, its text at `text`.
    @inline(__always)
    mutating func plainField(_ field: PlainAttribute, _ text: UnsafeMutablePointer<UInt8>) {
        let p = UnsafePointer(text), n = field.count
        switch field.kind {
        case .string: stringField(path: field.path, p, n, ascii: allASCII(p, n))
        case .number: attributeNumber(path: field.path, p, n)
        case .stringArray: stringArrayFields(path: field.path, p, n)
        case .binary: break
        }
    }

    /// A plain number text: JSON-syntax numbers (what Double(text) reads identically) take the fast
    /// approximate-then-exact path; anything else ("+5", ".5", "inf", hex…) uses Double(text).
    @inline(__always)
    mutating func attributeNumber(path: Int32, _ base: UnsafePointer<UInt8>, _ count: Int) {
        var decimal = DecimalNumber()
        if count > 0, let after = readJSONNumber(base, base + count, into: &decimal), after == base + count {
            numberText(path: path, base, count, decimal)
        } else if let v = Double(String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)) {
            numberField(path: path, v)
        }
    }

    mutating func attributeField(path: Int32, value: MessageAttributeValue) {
        guard var text = value.stringValue else { return }
        // The common types without `filterKind`'s allocating split.
        let kind: MessageAttributeValue.FilterKind
        switch value.dataType {
        case "String": kind = .string
        case "Number": kind = .number
        case "String.Array": kind = .stringArray
        default: kind = value.filterKind
        }
        switch kind {
        case .string:
            text.withUTF8 { bytes in
                let base = bytes.baseAddress ?? emptyBytes
                stringField(path: path, base, bytes.count, ascii: allASCII(base, bytes.count))
            }
        case .number:
            // Plain JSON-syntax numbers (what Double(text) reads identically) take the fast
            // approximate-then-exact path; anything else ("+5", ".5", "inf", hex…) uses Double(text).
            let fast: Bool = text.withUTF8 { bytes in
                guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
                var decimal = DecimalNumber()
                guard let after = readJSONNumber(base, base + bytes.count, into: &decimal), after == base + bytes.count else {
                    return false
                }
                numberText(path: path, base, bytes.count, decimal)
                return true
            }
            if !fast, let v = Double(text) { numberField(path: path, v) }
        case .stringArray:
            text.withUTF8 { bytes in
                if let base = bytes.baseAddress { stringArrayFields(path: path, base, bytes.count) }
            }
        case .binary:
            return
        }
    }
}

/// What `attributeFields` needs of one attribute: its path (-1: no policy names it; -2: take the
/// general path), base type, and the count of its text's bytes, copied to the scratch `out`.
struct PlainAttribute {
    var path: Int32
    var kind: MessageAttributeValue.FilterKind
    var count: Int
}

/// Reads the attribute at `i` for the common case — an ASCII name looked up in `names` (only when
/// every policy's attribute name is ASCII: otherwise a non-ASCII name may equal an ASCII one as
/// Swift Strings), a `String`/`Number`/`String.Array`/`Binary`-payload value whose text fits `out`.
/// Only reads and copies bytes, so nothing of the element needs to be retained.
@inline(__always)
func plainAttribute(_ attributes: MessageAttributes, _ i: MessageAttributes.Index, _ names: ByteTable, _ asciiNames: Bool,
                    _ out: UnsafeMutablePointer<UInt8>, _ capacity: Int) -> PlainAttribute {
    let general = PlainAttribute(path: -2, kind: .binary, count: 0)
    guard asciiNames else { return general }
    let path = attributes.keys[i].utf8.withContiguousStorageIfAvailable { bytes -> Int32 in
        names.findASCII(tag: TableKind.attributeName.tag(0), bytes.baseAddress ?? emptyBytes, bytes.count)
    } ?? -2
    if path < 0 { return PlainAttribute(path: path, kind: .binary, count: 0) }
    return plainValue(attributes, i, path, out, capacity)
}

/// The value at `i` of an attribute at `path`, as `plainAttribute` reads it: a `String`, `Number`
/// or `String.Array` text that fits `out` is copied there; a binary payload has kind `.binary`;
/// anything else gives path -2 (the general path).
@inline(__always)
func plainValue(_ attributes: MessageAttributes, _ i: MessageAttributes.Index, _ path: Int32,
                _ out: UnsafeMutablePointer<UInt8>, _ capacity: Int) -> PlainAttribute {
    let general = PlainAttribute(path: -2, kind: .binary, count: 0)
    let value = attributes.values[i]
    guard case .string(let text) = value.payload else { return PlainAttribute(path: path, kind: .binary, count: 0) }
    guard let kind = value.dataType.utf8.withContiguousStorageIfAvailable({ bytes in
        bytes.baseAddress.flatMap { commonFilterKind($0, bytes.count) }
    }) ?? nil else { return general }
    let count = text.utf8.withContiguousStorageIfAvailable { bytes -> Int in
        guard bytes.count <= capacity else { return -1 }
        if let base = bytes.baseAddress { copyBytes(out, base, bytes.count) }
        return bytes.count
    } ?? -1
    if count < 0 { return general }
    return PlainAttribute(path: path, kind: kind, count: count)
}

/// `String`, `Number` and `String.Array` recognised from a data type's bytes (nil for any other,
/// which `MessageAttributeValue.filterKind` classifies).
@inline(__always)
func commonFilterKind(_ p: UnsafePointer<UInt8>, _ count: Int) -> MessageAttributeValue.FilterKind? {
    let raw = UnsafeRawPointer(p)
    if count == 6 {
        // The bytes as little-endian words: "Stri"+"ng", "Numb"+"er".
        let head = UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self))
        let tail = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        if head == 0x6972_7453 && tail == 0x676E { return .string }
        if head == 0x626D_754E && tail == 0x7265 { return .number }
        return nil
    }
    if count == 12 {
        // "String.A" + "rray".
        if UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) == 0x412E_676E_6972_7453
            && UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == 0x7961_7272 {
            return .stringArray
        }
    }
    return nil
}

@inlinable @inline(__always)
func sameBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    guard a.count == count else { return false }
    guard let base = a.baseAddress, count > 0 else { return true }
    return memcmpBytes(base, b, count)
}

@inlinable @inline(__always)
func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var i = 0
    while i < count {
        if a[i] != b[i] { return false }
        i &+= 1
    }
    return true
}

/// Copies `count` bytes: short runs (attribute texts mostly are) word by word in line, instead of a
/// call to memmove each.
@inlinable @inline(__always)
func copyBytes(_ out: UnsafeMutablePointer<UInt8>, _ p: UnsafePointer<UInt8>, _ count: Int) {
    if count > 32 {
        out.update(from: p, count: count)
        return
    }
    let from = UnsafeRawPointer(p), to = UnsafeMutableRawPointer(out)
    var i = 0
    while i &+ 8 <= count {
        to.storeBytes(of: from.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
        i &+= 8
    }
    if count & 4 != 0 {
        to.storeBytes(of: from.loadUnaligned(fromByteOffset: i, as: UInt32.self), toByteOffset: i, as: UInt32.self)
        i &+= 4
    }
    if count & 2 != 0 {
        to.storeBytes(of: from.loadUnaligned(fromByteOffset: i, as: UInt16.self), toByteOffset: i, as: UInt16.self)
        i &+= 2
    }
    if count & 1 != 0 { out[i] = p[i] }
}

/// A valid pointer for zero-length byte strings.
@usableFromInline
nonisolated(unsafe) let emptyBytes: UnsafePointer<UInt8> = UnsafePointer(UnsafeMutablePointer<UInt8>.allocate(capacity: 1))

/// Whether all `count` bytes are ASCII, eight at a time.
@inlinable @inline(__always)
func allASCII(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var i = 0
    while i &+ 8 <= count {
        if UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
        i &+= 8
    }
    while i < count {
        if p[i] >= 0x80 { return false }
        i &+= 1
    }
    return true
}
