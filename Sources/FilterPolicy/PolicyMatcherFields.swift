/// One field (path, value) against the compiled index of its path: the per-value-type lookups.
/// ASCII strings are compared as bytes (identical to Swift String semantics for ASCII); a non-ASCII
/// value or pattern falls back to Swift String comparison, the reference semantics.
extension MatchContext {
    // MARK: Strings

    @inlinable
    mutating func stringField(path: Int32, _ p: UnsafePointer<UInt8>, _ n: Int, ascii: Bool) {
        let info = paths[Int(path)]
        markPresent(path)
        if info.existsTrue.count != 0 { hit(info.existsTrue) }
        let flags = info.flags
        if flags.isDisjoint(with: .anyString) { return }
        if ascii {
            if flags.contains(.exact) {
                if flags.contains(.exactUnicode) {
                    unicodeExact(path: path, p, n)
                } else {
                    let r = strings.find(tag: TableKind.exact.tag(path), p, n)
                    if r >= 0 { hit(tableRanges[Int(r)]) }
                }
            }
            if flags.contains(.prefix) { asciiAffix(.prefix, path: path, info.prefixLengthsStart, info.prefixLengthsCount, p, n) }
            if flags.contains(.suffix) {
                let reversed = reversedCopy(p, n)
                asciiAffix(.suffix, path: path, info.suffixLengthsStart, info.suffixLengthsCount, reversed, n)
            }
            if flags.contains(.equalsIgnoreCase) {
                if flags.contains(.equalsIgnoreCaseUnicode) {
                    unicodeEqualsIgnoreCase(path: path, p, n)
                } else {
                    let lowered = loweredCopy(p, n)
                    let r = strings.find(tag: TableKind.equalsIgnoreCase.tag(path), lowered, n)
                    if r >= 0 { hit(tableRanges[Int(r)]) }
                }
            }
            if flags.contains(.prefixUnicode) || flags.contains(.suffixUnicode) {
                unicodeAffixes(path: path, p, n, all: false)
            }
        } else {
            if flags.contains(.exact) { unicodeExact(path: path, p, n) }
            if flags.contains(.equalsIgnoreCase) { unicodeEqualsIgnoreCase(path: path, p, n) }
            if !flags.isDisjoint(with: [.prefix, .suffix, .prefixUnicode, .suffixUnicode]) {
                unicodeAffixes(path: path, p, n, all: true)
            }
        }
        if flags.contains(.stringAnythingBut) { stringAnythingBut(info, p, n, ascii: ascii) }
        if flags.contains(.cidr) { cidrField(info, p, n) }
    }

    /// Hash every stored prefix length of the value in one incremental pass (suffixes: over the
    /// reversed value against reversed patterns).
    @inlinable @inline(__always)
    mutating func asciiAffix(_ kind: TableKind, path: Int32, _ start: Int32, _ count: Int32, _ p: UnsafePointer<UInt8>, _ n: Int) {
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
            let r = strings.find(hash: ByteHash.finish(h), tag: tag, p, length)
            if r >= 0 { hit(tableRanges[Int(r)]) }
        }
    }

    @inlinable @inline(__always)
    func reversedCopy(_ p: UnsafePointer<UInt8>, _ n: Int) -> UnsafePointer<UInt8> {
        scratch.buffer.reserve(n, keep: 0)
        let out = scratch.buffer.base
        var i = 0
        while i < n {
            out[i] = p[n &- 1 &- i]
            i &+= 1
        }
        return UnsafePointer(out)
    }

    @inlinable @inline(__always)
    func loweredCopy(_ p: UnsafePointer<UInt8>, _ n: Int) -> UnsafePointer<UInt8> {
        scratch.buffer.reserve(n, keep: 0)
        let out = scratch.buffer.base
        var i = 0
        while i < n {
            let c = p[i]
            out[i] = (c &- UInt8(ascii: "A")) < 26 ? c | 0x20 : c
            i &+= 1
        }
        return UnsafePointer(out)
    }

    @usableFromInline
    mutating func unicodeExact(path: Int32, _ p: UnsafePointer<UInt8>, _ n: Int) {
        let s = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
        if let r = storage.fallbacks[Int(path)].exact[s] { hit(r) }
    }

    @usableFromInline
    mutating func unicodeEqualsIgnoreCase(path: Int32, _ p: UnsafePointer<UInt8>, _ n: Int) {
        let s = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
        if let r = storage.fallbacks[Int(path)].equalsIgnoreCase[s.lowercased()] { hit(r) }
    }

    /// Prefix/suffix patterns compared as Swift Strings: all of them for a non-ASCII value, only the
    /// non-ASCII ones for an ASCII value.
    @usableFromInline
    mutating func unicodeAffixes(path: Int32, _ p: UnsafePointer<UInt8>, _ n: Int, all: Bool) {
        let s = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
        let fallback = storage.fallbacks[Int(path)]
        for (pattern, r) in all ? fallback.prefixes : fallback.unicodePrefixes where s.hasPrefix(pattern) { hit(r) }
        for (pattern, r) in all ? fallback.suffixes : fallback.unicodeSuffixes where s.hasSuffix(pattern) { hit(r) }
    }

    @usableFromInline
    mutating func stringAnythingBut(_ info: PathInfo, _ p: UnsafePointer<UInt8>, _ n: Int, ascii: Bool) {
        var i = Int(info.anythingButStart)
        let end = i + Int(info.anythingButCount)
        while i < end {
            let condition = storage.anythingBut[i]
            i += 1
            switch condition.kind {
            case .numbers:
                continue
            case .strings:
                let listed: Bool
                if ascii && !condition.unicode {
                    listed = strings.find(tag: condition.tag, p, n) >= 0
                } else {
                    let s = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
                    listed = storage.anythingButStrings[Int(condition.stringsIndex)].contains(s)
                }
                if !listed { hit(condition.slots) }
            case .prefix:
                let hasPrefix: Bool
                if ascii && !condition.unicode {
                    let count = Int(condition.dataCount)
                    let prefix = storage.anythingButBytes.base + Int(condition.dataStart)
                    hasPrefix = count <= n && (0..<count).allSatisfy { p[$0] == prefix[$0] }
                } else {
                    let s = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
                    hasPrefix = s.hasPrefix(storage.anythingButPrefixes[Int(condition.stringsIndex)])
                }
                if !hasPrefix { hit(condition.slots) }
            }
        }
    }

    @usableFromInline
    mutating func cidrField(_ info: PathInfo, _ p: UnsafePointer<UInt8>, _ n: Int) {
        guard let address = parseIPAddress(p, n) else { return }
        let blocks = storage.cidrBlocks
        for i in Int(info.cidrStart)..<Int(info.cidrStart + info.cidrCount) where blocks[i].0.contains(address) {
            hit(blocks[i].1)
        }
    }

    // MARK: Numbers, booleans, null

    /// A number whose exact value is known.
    @inlinable
    mutating func numberField(path: Int32, _ v: Double) {
        let info = paths[Int(path)]
        markPresent(path)
        if info.existsTrue.count != 0 { hit(info.existsTrue) }
        numberLookups(path: path, info, v)
    }

    /// A JSON number read approximately: converted exactly only when the approximation lies close to
    /// a key of this path (otherwise every comparison comes out the same).
    @inlinable
    mutating func numberText(path: Int32, _ text: UnsafePointer<UInt8>, _ count: Int, _ decimal: DecimalNumber) {
        let info = paths[Int(path)]
        markPresent(path)
        if info.existsTrue.count != 0 { hit(info.existsTrue) }
        if info.flags.isDisjoint(with: .anyNumber) { return }
        var v: Double
        if let approximation = decimal.approximate(UnsafePointer(powersOfTen)) {
            v = approximation.value
            if !approximation.exact && nearSomeKey(v, numberKeys + Int(info.numberKeysStart), Int(info.numberKeysCount)) {
                v = exactJSONNumber(text, count)
            }
        } else {
            v = exactJSONNumber(text, count)
        }
        numberLookups(path: path, info, v)
    }

    @inlinable @inline(__always)
    mutating func numberLookups(path: Int32, _ info: PathInfo, _ v: Double) {
        let flags = info.flags
        if !v.isNaN {
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
    }

    /// null is a field (it matches `null` conditions) but not a value for `exists`.
    @inlinable
    mutating func nullField(path: Int32) {
        let r = paths[Int(path)].isNull
        if r.count != 0 { hit(r) }
    }
}
