/// One field (path, value) against the compiled index of its path: the per-value-type lookups.
/// Strings compare by their UTF-8 bytes, as the reference does.
extension MatchContext {
    // MARK: Strings

    @inlinable
    mutating func stringField(path: Int32, _ p: UnsafePointer<UInt8>, _ n: Int, ascii: Bool) {
        let info = paths[Int(path)]
        markPresent(path)
        if info.existsTrue.count != 0 { hit(info.existsTrue) }
        let flags = info.flags
        if flags.contains(.deferred) {
            let id = flags.contains(.deferredStrings) ? strings.find(tag: TableKind.deferredString.tag(path), p, n) : -1
            record(path, .string, p, n, stringID: id)
        }
        if flags.isDisjoint(with: .anyString) { return }
        if flags.contains(.exact) {
            let (entries, count) = strings.findSlots(tag: TableKind.exact.tag(path), p, n, slots: slots)
            if count != 0 { hit(entries, count) }
        }
        if flags.contains(.prefix) { affixes(.prefix, path: path, info.prefixLengthsStart, info.prefixLengthsCount, p, n) }
        if flags.contains(.suffix) {
            let reversed = reversedCopy(p, n)
            affixes(.suffix, path: path, info.suffixLengthsStart, info.suffixLengthsCount, reversed, n)
        }
        if flags.contains(.equalsIgnoreCase) {
            if ascii {
                let lowered = loweredCopy(p, n)
                let (entries, count) = strings.findSlots(tag: TableKind.equalsIgnoreCase.tag(path), lowered, n, slots: slots)
                if count != 0 { hit(entries, count) }
            } else {
                unicodeEqualsIgnoreCase(path: path, p, n)
            }
        }
        if flags.contains(.stringAnythingBut) { stringAnythingBut(info, p, n) }
        if flags.contains(.cidr) { cidrField(info, p, n) }
    }

    /// Hash every stored prefix length of the value in one incremental pass (suffixes: over the
    /// reversed value against reversed patterns).
    @inlinable @inline(__always)
    mutating func affixes(_ kind: TableKind, path: Int32, _ start: Int32, _ count: Int32, _ p: UnsafePointer<UInt8>, _ n: Int) {
        let tag = kind.tag(path)
        var h = ByteHash.seed(tag)
        var consumed = 0
        var i = Int(start)
        let end = i &+ Int(count)
        while i < end {
            let length = Int(lengths[i])
            i &+= 1
            if length > n { break }
            while consumed < length {
                h = ByteHash.step(h, p[consumed])
                consumed &+= 1
            }
            let (entries, found) = strings.findSlots(hash: ByteHash.finish(h), tag: tag, p, length, slots: slots)
            if found != 0 { hit(entries, found) }
        }
    }

    @inlinable @inline(__always)
    func reversedCopy(_ p: UnsafePointer<UInt8>, _ n: Int) -> UnsafePointer<UInt8> {
        state.pointee.buffer.reserve(n, keep: 0)
        let out = state.pointee.buffer.base
        var i = 0
        while i < n {
            out[i] = p[n &- 1 &- i]
            i &+= 1
        }
        return UnsafePointer(out)
    }

    @inlinable @inline(__always)
    func loweredCopy(_ p: UnsafePointer<UInt8>, _ n: Int) -> UnsafePointer<UInt8> {
        state.pointee.buffer.reserve(n, keep: 0)
        let out = state.pointee.buffer.base
        var i = 0
        while i < n {
            let c = p[i]
            out[i] = (c &- UInt8(ascii: "A")) < 26 ? c | 0x20 : c
            i &+= 1
        }
        return UnsafePointer(out)
    }

    /// Non-ASCII values are lowercased as Swift Strings (full Unicode case mapping), then compared
    /// by bytes like the ASCII ones.
    @usableFromInline
    mutating func unicodeEqualsIgnoreCase(path: Int32, _ p: UnsafePointer<UInt8>, _ n: Int) {
        var lowered = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self).lowercased()
        let r = lowered.withUTF8 { bytes in
            strings.find(tag: TableKind.equalsIgnoreCase.tag(path), bytes.baseAddress ?? emptyBytes, bytes.count)
        }
        if r >= 0 { hit(tableRanges[Int(r)]) }
    }

    @usableFromInline
    mutating func stringAnythingBut(_ info: PathInfo, _ p: UnsafePointer<UInt8>, _ n: Int) {
        var i = Int(info.anythingButStart)
        let end = i + Int(info.anythingButCount)
        while i < end {
            let condition = storage.anythingBut[i]
            i += 1
            switch condition.kind {
            case .numbers:
                continue
            case .strings:
                if strings.find(tag: condition.tag, p, n) < 0 { hit(condition.slots) }
            case .prefix:
                let count = Int(condition.dataCount)
                let prefix = storage.anythingButBytes.base + Int(condition.dataStart)
                let hasPrefix = count <= n && (0..<count).allSatisfy { p[$0] == prefix[$0] }
                if !hasPrefix { hit(condition.slots) }
            }
        }
    }

    /// IP text is read with the reference's own parser (rare path: allocates).
    @usableFromInline
    mutating func cidrField(_ info: PathInfo, _ p: UnsafePointer<UInt8>, _ n: Int) {
        let text = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
        guard let address = CIDRBlock.parseAddress(text) else { return }
        let blocks = storage.cidrBlocks
        for i in Int(info.cidrStart)..<Int(info.cidrStart + info.cidrCount) where blocks[i].0.contains(address) {
            hit(blocks[i].1)
        }
    }

    // MARK: Numbers, booleans, null

    /// A number whose exact value is known; compared at 6 decimal places (`FilterNumber.canonical`).
    @inlinable
    mutating func numberField(path: Int32, _ exact: Double) {
        let v = FilterNumber.canonical(exact)
        let info = paths[Int(path)]
        markPresent(path)
        if info.existsTrue.count != 0 { hit(info.existsTrue) }
        if info.flags.contains(.deferred) { record(path, .number, number: v) }
        numberLookups(path: path, info, v)
    }

    /// A JSON number read approximately: converted exactly when the approximation is inexact (its
    /// 6-decimal rounding could then differ from the exact value's), then rounded to 6 decimals.
    @inlinable
    mutating func numberText(path: Int32, _ text: UnsafePointer<UInt8>, _ count: Int, _ decimal: DecimalNumber) {
        numberFieldPresent(path: path)
        // Through a pointer, not a copy of the whole record: most numbers read only these fields.
        let head = paths + Int(path)
        let flags = head.pointee.flags
        if flags.isDisjoint(with: .anyNumber) { return }
        let approximation = decimal.approximate(UnsafePointer(powersOfTen))
        if let a = approximation?.value, a < head.pointee.numberLow || a > head.pointee.numberHigh { return }
        let v = canonicalJSONNumber(text, count, approximation)
        if flags.contains(.deferred) { record(path, .number, number: v) }
        numberLookups(path: path, head.pointee, v)
    }

    @inlinable @inline(__always)
    mutating func numberLookups(path: Int32, _ info: PathInfo, _ v: Double) {
        let flags = info.flags
        if v.isNaN {
            if info.unboundedRanges.count != 0 { hit(info.unboundedRanges) }
        } else {
            if flags.contains(.exactNumber) {
                let r = storage.numbers.find(path: path, v)
                if r >= 0 { hit(tableRanges[Int(r)]) }
            }
            if flags.contains(.ranges) {
                let atom = rangeAtom(v, rangeEnds + Int(info.rangeEndsStart), Int(info.rangeEndsCount))
                var node = Int(info.treeLeaves) &+ atom
                let tree = treeNodes + Int(info.treeStart)
                while node >= 1 {
                    let r = tree[node]
                    if r.count != 0 { hit(r) }
                    node >>= 1
                }
            }
        }
        if flags.contains(.numberAnythingBut) { numberAnythingBut(info, v) }
    }

    @usableFromInline
    mutating func numberAnythingBut(_ info: PathInfo, _ v: Double) {
        var i = Int(info.anythingButStart)
        let end = i + Int(info.anythingButCount)
        while i < end {
            let condition = storage.anythingBut[i]
            i += 1
            guard condition.kind == .numbers else { continue }
            let values = storage.anythingButNumbers.base + Int(condition.dataStart)
            if !(0..<Int(condition.dataCount)).contains(where: { values[$0] == v }) { hit(condition.slots) }
        }
    }

    @inlinable
    mutating func booleanField(path: Int32, _ b: Bool) {
        let info = paths[Int(path)]
        markPresent(path)
        if info.existsTrue.count != 0 { hit(info.existsTrue) }
        let r = b ? info.isTrue : info.isFalse
        if r.count != 0 { hit(r) }
        if info.flags.contains(.deferred) { record(path, b ? .isTrue : .isFalse) }
    }

    /// null is a field (it matches `null` conditions) but not a value for `exists`.
    @inlinable
    mutating func nullField(path: Int32) {
        let info = paths[Int(path)]
        if info.isNull.count != 0 { hit(info.isNull) }
        if info.flags.contains(.deferred) { record(path, .null) }
    }
}
