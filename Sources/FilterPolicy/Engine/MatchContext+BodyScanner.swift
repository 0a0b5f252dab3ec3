import HeraldCore

/// The MessageBody-scope scanner: one pass over the raw JSON bytes that follows only the paths some
/// policy names (a trie of "."-split path segments, so dotted keys and nesting are the same path) and
/// skips everything else without materialising it. Skipped values are still validated, because a
/// body that is not valid JSON must match no body-scope policy. Fields are fed to the index as they
/// are met; `finish` discards body-scope candidates when the body turned out invalid.
///
/// "Valid" is exactly what the reference's parser (`JSONParser.parse`) accepts: RFC 8259 JSON, an
/// optional UTF-8 byte-order mark, well-formed UTF-8, at most `FilterInput.maxBodyNestingDepth`
/// nested containers and number texts of at most `JSONParser.Limits.jacksonMaxNumberLength` bytes.
extension MatchContext {
    /// Scans `count` bytes; returns whether they are one JSON object (and nothing else).
    @inlinable
    mutating func scanBody(_ base: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        let end = base + count
        var p = skipJSONWhitespace(skipByteOrderMark(base, end), end)
        guard p < end, p[0] == UInt8(ascii: "{") else { return false }
        p += 1
        // Frames: trie node << 1 | isArray. Node -1 never appears: dead subtrees are skipped whole.
        var depth = 1
        var stack = state.pointee.stack.base
        stack[0] = 0
        var first = true
        outer: while true {
            p = skipJSONWhitespace(p, end)
            guard p < end else { return false }
            let frame = stack[depth &- 1]
            let isArray = frame & 1 != 0
            let node = frame >> 1
            if first && p[0] == (isArray ? UInt8(ascii: "]") : UInt8(ascii: "}")) {
                p += 1
                depth &-= 1
            } else {
                var valueNode = node
                if !isArray {
                    guard p[0] == UInt8(ascii: "\"") else { return false }
                    var flags: UInt8 = 0
                    guard let close = scanJSONString(p + 1, end, &flags, dots: true) else { return false }
                    valueNode = childNode(node, p + 1, close - (p + 1), flags)
                    p = skipJSONWhitespace(close + 1, end)
                    guard p < end, p[0] == UInt8(ascii: ":") else { return false }
                    p = skipJSONWhitespace(p + 1, end)
                    guard p < end else { return false }
                }
                let c = p[0]
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    if valueNode < 0 || (c == UInt8(ascii: "{") && !trieNodeHasChildren[Int(valueNode)]) {
                        guard let after = skipJSONComposite(p, end, openDepth: depth) else { return false }
                        p = after
                    } else {
                        if depth >= maxJSONDepth { return false }
                        if depth == state.pointee.stack.capacity {
                            state.pointee.stack.reserve(depth * 2, keep: depth)
                            stack = state.pointee.stack.base
                        }
                        stack[depth] = valueNode << 1 | (c == UInt8(ascii: "[") ? 1 : 0)
                        depth &+= 1
                        p += 1
                        first = true
                        continue outer
                    }
                } else {
                    let path = valueNode >= 0 ? trieNodePath[Int(valueNode)] : -1
                    if isArray && path >= 0 && (c == UInt8(ascii: "-") || c &- UInt8(ascii: "0") < 10) {
                        // Sibling arrays of numbers ("],[") stay in the run when the enclosing
                        // container is an array too: same depth, same frame, same path.
                        let siblings = depth >= 2 && stack[depth &- 2] & 1 != 0
                        guard let after = bodyNumbers(path: path, p, end, run: true, siblings: siblings) else { return false }
                        p = after
                    } else {
                        guard let after = scalar(p, end, path: path) else { return false }
                        p = after
                    }
                }
            }
            // After a value or a closed container: a separator, more closers, or the end.
            while true {
                if depth == 0 { return skipJSONWhitespace(p, end) == end }
                p = skipJSONWhitespace(p, end)
                guard p < end else { return false }
                let c = p[0]
                if c == UInt8(ascii: ",") {
                    p += 1
                    first = false
                    continue outer
                }
                let isArray = stack[depth &- 1] & 1 != 0
                guard c == (isArray ? UInt8(ascii: "]") : UInt8(ascii: "}")) else { return false }
                p += 1
                depth &-= 1
            }
        }
    }

    /// The trie node reached from `node` by a key (split on "."), or -1 when no policy names it.
    @inlinable @inline(__always)
    mutating func childNode(_ node: Int32, _ key: UnsafePointer<UInt8>, _ count: Int, _ flags: UInt8) -> Int32 {
        if node < 0 { return -1 }
        var k = key
        var n = count
        var ascii = flags & jsonStringNonASCII == 0
        // A key read without escapes whose scan saw no '.' is one segment (most keys).
        let oneSegment = flags & (jsonStringEscaped | jsonStringDotted) == 0
        if flags & jsonStringEscaped != 0 {
            n = decodeJSONString(key, count)
            k = UnsafePointer(state.pointee.unescaped.base)
            ascii = allASCII(k, n)
        }
        // Per "."-separated segment: find its end, reject it by length when no child has that
        // length (most unnamed keys stop here), else hash it and probe.
        var current = node
        var segmentStart = 0
        while true {
            var i = oneSegment ? n : segmentStart
            while i < n && k[i] != UInt8(ascii: ".") { i &+= 1 }
            let length = i &- segmentStart
            if ascii && !trieNodeHasUnicodeChild[Int(current)] {
                if (trieChildLengths[Int(current)] >> UInt64(min(length, 63))) & 1 == 0 { return -1 }
                current = names.find(tag: TableKind.trieChild.tag(current), k + segmentStart, length)
            } else {
                current = unicodeChild(current, k + segmentStart, length)
            }
            if current < 0 || i == n { return current }
            segmentStart = i &+ 1
        }
    }

    /// Key segments compare as Swift Strings in the reference (canonical equivalence): the slow
    /// path for non-ASCII segments or children.
    @usableFromInline
    func unicodeChild(_ node: Int32, _ segment: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
        let name = String(decoding: UnsafeBufferPointer(start: segment, count: count), as: UTF8.self)
        return storage.trieChildrenByString[Int(node)].names[name] ?? -1
    }

    /// Reads (and validates) one scalar; feeds it as a field when `path` is named.
    @inlinable @inline(__always)
    mutating func scalar(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, path: Int32) -> UnsafePointer<UInt8>? {
        switch p[0] {
        case UInt8(ascii: "\""):
            var flags: UInt8 = 0
            guard let close = scanJSONString(p + 1, end, &flags) else { return nil }
            if path >= 0 { emitString(path: path, p + 1, close - (p + 1), flags) }
            return close + 1
        case UInt8(ascii: "t"):
            guard matchLiteral(p, end, 0x6575_7274, 4) else { return nil }  // "true"
            if path >= 0 { booleanField(path: path, true) }
            return p + 4
        case UInt8(ascii: "f"):
            guard end - p >= 5, matchLiteral(p + 1, end, 0x6573_6c61, 4) else { return nil }  // "alse"
            if path >= 0 { booleanField(path: path, false) }
            return p + 5
        case UInt8(ascii: "n"):
            guard matchLiteral(p, end, 0x6c6c_756e, 4) else { return nil }  // "null"
            if path >= 0 { nullField(path: path) }
            return p + 4
        default:
            return path >= 0 ? bodyNumbers(path: path, p, end, run: false, siblings: false) : skipJSONNumber(p, end)
        }
    }

    /// Numbers at a named path, from `p`: one, or with `run` as many as follow it in the same array
    /// separated by bare commas (coordinate arrays), so each costs no trip through the scanner's
    /// loop; with `siblings` (the array is itself an element of an array) also across "],[" into
    /// the next array of numbers, which has the same depth, frame and path. A value is read only when some condition there can use it: a path with no numeric
    /// condition only marks the field, and one whose only numeric conditions are exact numbers
    /// first tries to reject each number from its text against the path's guards
    /// (`rejectedJSONNumber`), which is what most numbers there come to. Returns the position
    /// after the last number read, or nil when one is invalid.
    @inlinable @inline(__always)
    mutating func bodyNumbers(
        path: Int32, _ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, run: Bool, siblings: Bool
    ) -> UnsafePointer<UInt8>? {
        let head = paths + Int(path)
        let unread = head.pointee.flags.isDisjoint(with: .anyNumber)
        let gate = unread ? nil : NumberGate(low: head.pointee.numberLow, high: head.pointee.numberHigh)
        var p = start
        while true {
            if unread {
                guard let after = skipJSONNumber(p, end) else { return nil }
                numberFieldPresent(path: path)
                p = after
            } else if let gate, let after = rejectedJSONNumber(p, end, gate) {
                numberFieldPresent(path: path)
                p = after
            } else {
                var decimal = DecimalNumber()
                guard let after = readJSONNumber(p, end, into: &decimal) else { return nil }
                numberText(path: path, p, after - p, decimal)
                p = after
            }
            guard run, end - p >= 4 else { return p }
            if p[0] == UInt8(ascii: ","), p[1] == UInt8(ascii: "-") || p[1] &- UInt8(ascii: "0") < 10 {
                p += 1
            } else if siblings, p[0] == UInt8(ascii: "]"), p[1] == UInt8(ascii: ","), p[2] == UInt8(ascii: "["),
                      p[3] == UInt8(ascii: "-") || p[3] &- UInt8(ascii: "0") < 10 {
                p += 3
            } else {
                return p
            }
        }
    }

    /// A number at `path` is present, whatever its value (`numberText` starts with this; numbers
    /// nothing reads stop here).
    @inlinable @inline(__always)
    mutating func numberFieldPresent(path: Int32) {
        markPresent(path)
        let existsTrue = paths[Int(path)].existsTrue
        if existsTrue.count != 0 { hit(existsTrue) }
    }

    @inlinable @inline(__always)
    mutating func emitString(path: Int32, _ p: UnsafePointer<UInt8>, _ n: Int, _ flags: UInt8) {
        if flags & jsonStringEscaped != 0 {
            let count = decodeJSONString(p, n)
            let decoded = UnsafePointer(state.pointee.unescaped.base)
            stringField(path: path, decoded, count, ascii: allASCII(decoded, count))
        } else {
            stringField(path: path, p, n, ascii: flags & jsonStringNonASCII == 0)
        }
    }

    /// Decodes the escapes of a JSON string body (already validated) into `state.pointee.unescaped`;
    /// returns the decoded length. Unpaired surrogates become U+FFFD.
    @usableFromInline
    mutating func decodeJSONString(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        state.pointee.unescaped.reserve(n, keep: 0)
        let out = state.pointee.unescaped.base
        var o = 0
        var i = 0
        func put(_ scalar: UInt32) {
            if scalar < 0x80 {
                out[o] = UInt8(scalar); o += 1
            } else if scalar < 0x800 {
                out[o] = UInt8(0xC0 | scalar >> 6); out[o + 1] = UInt8(0x80 | scalar & 0x3F); o += 2
            } else if scalar < 0x10000 {
                out[o] = UInt8(0xE0 | scalar >> 12); out[o + 1] = UInt8(0x80 | (scalar >> 6) & 0x3F)
                out[o + 2] = UInt8(0x80 | scalar & 0x3F); o += 3
            } else {
                out[o] = UInt8(0xF0 | scalar >> 18); out[o + 1] = UInt8(0x80 | (scalar >> 12) & 0x3F)
                out[o + 2] = UInt8(0x80 | (scalar >> 6) & 0x3F); out[o + 3] = UInt8(0x80 | scalar & 0x3F); o += 4
            }
        }
        func hex4(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for j in at..<at + 4 {
                let c = p[j]
                let d: UInt32 = c <= 0x39 ? UInt32(c - 0x30) : UInt32((c | 0x20) - 0x61 + 10)
                v = v << 4 | d
            }
            return v
        }
        while i < n {
            let c = p[i]
            if c != UInt8(ascii: "\\") {
                out[o] = c; o += 1; i += 1
                continue
            }
            let e = p[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): put(0x08)
            case UInt8(ascii: "f"): put(0x0C)
            case UInt8(ascii: "n"): put(0x0A)
            case UInt8(ascii: "r"): put(0x0D)
            case UInt8(ascii: "t"): put(0x09)
            case UInt8(ascii: "u"):
                let u = hex4(i)
                i += 4
                if u >= 0xD800 && u < 0xDC00, i + 6 <= n, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(i + 2)
                    if low >= 0xDC00 && low < 0xE000 {
                        put(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00))
                        i += 6
                        continue
                    }
                }
                put(u >= 0xD800 && u < 0xE000 ? 0xFFFD : u)
            default: put(UInt32(e))  // \" \\ \/
            }
        }
        return o
    }

    // MARK: String.Array attributes

    /// The elements of a `String.Array` attribute value: a JSON array whose string, number, boolean
    /// and null elements are fields at `path` (nested arrays/objects ignored). Anything that is not
    /// a valid JSON array gives no field at all, so elements are recorded first and fed after.
    mutating func stringArrayFields(path: Int32, _ base: UnsafePointer<UInt8>, _ count: Int) {
        let end = base + count
        var p = skipJSONWhitespace(skipByteOrderMark(base, end), end)
        guard p < end, p[0] == UInt8(ascii: "[") else { return }
        p = skipJSONWhitespace(p + 1, end)
        guard p < end else { return }
        var recorded = 0  // (start offset, end offset) pairs of scalar elements
        if p[0] == UInt8(ascii: "]") {
            p += 1
        } else {
            while true {
                guard p < end else { return }
                let c = p[0]
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    guard let after = skipJSONComposite(p, end, openDepth: 1) else { return }
                    p = after
                } else {
                    guard let after = scalar(p, end, path: -1) else { return }
                    state.pointee.elements.reserve(recorded + 2, keep: recorded)
                    state.pointee.elements.base[recorded] = p - base
                    state.pointee.elements.base[recorded + 1] = after - base
                    recorded += 2
                    p = after
                }
                p = skipJSONWhitespace(p, end)
                guard p < end else { return }
                if p[0] == UInt8(ascii: "]") { p += 1; break }
                guard p[0] == UInt8(ascii: ",") else { return }
                p = skipJSONWhitespace(p + 1, end)
            }
        }
        guard skipJSONWhitespace(p, end) == end else { return }
        var i = 0
        while i < recorded {
            let start = base + state.pointee.elements.base[i]
            let stop = base + state.pointee.elements.base[i + 1]
            i += 2
            _ = scalar(start, stop, path: path)
        }
    }
}

@usableFromInline let jsonStringEscaped: UInt8 = 1
@usableFromInline let jsonStringNonASCII: UInt8 = 2
/// Set by `scanJSONString(dots: true)` when the raw string may hold a '.' (never missed when it does).
@usableFromInline let jsonStringDotted: UInt8 = 4
/// The reference parser's nesting bound for bodies and String.Array values.
@usableFromInline let maxJSONDepth = FilterInput.maxBodyNestingDepth
@usableFromInline let maxJSONNumberLength = JSONParser.Limits.jacksonMaxNumberLength

@inlinable @inline(__always)
func skipByteOrderMark(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
    end - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF ? p + 3 : p
}

/// Well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF), as the reference checks.
@usableFromInline
func isValidUTF8(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    UTF8Validation.firstProblem(in: UnsafeBufferPointer(start: p, count: n)) == nil
}

@inlinable @inline(__always)
func skipJSONWhitespace(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
    var q = p
    while q < end {
        let c = q[0]
        if c > 0x20 || (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) { break }
        q += 1
    }
    return q
}

/// Whether the 4 bytes at `p` equal `word` (little-endian packed ASCII).
@inlinable @inline(__always)
func matchLiteral(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ word: UInt32, _ length: Int) -> Bool {
    guard end - p >= length else { return false }
    return UnsafeRawPointer(p).loadUnaligned(as: UInt32.self) == UInt32(littleEndian: word)
}

/// Finds the closing quote of a JSON string whose body starts at `p`, validating it (no raw control
/// characters, well-formed escapes). Sets `jsonStringEscaped` / `jsonStringNonASCII` in `flags`,
/// and with `dots` (keys: their "." splits paths) `jsonStringDotted` when a raw '.' may be in it.
/// Eight bytes at a time: a word is clean when it has no '"', no '\\' and no byte below 0x20.
@inlinable @inline(__always)
func scanJSONString(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ flags: inout UInt8, dots: Bool = false) -> UnsafePointer<UInt8>? {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    var p = start
    var high: UInt64 = 0
    // High bits at '.' bytes of the clean words (the lowest '.' of a word always shows; bytes
    // above it may show falsely, which only costs childNode its search).
    var dotted: UInt64 = 0
    while true {
        while end - p >= 8 {
            let v = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)
            let quote = v ^ (ones &* 0x22)
            let backslash = v ^ (ones &* 0x5C)
            let stops = (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((v &- ones &* 0x20) & ~v)) & highs
            let dot = v ^ (ones &* 0x2E)
            let dotBits = dots ? (dot &- ones) & ~dot & highs : 0
            if stops != 0 {
                let bit = stops.trailingZeroBitCount
                let before: UInt64 = (1 << UInt64(bit & ~7)) &- 1
                high |= v & highs & before
                dotted |= dotBits & before
                p += bit >> 3
                break
            }
            high |= v & highs
            dotted |= dotBits
            p += 8
        }
        guard p < end else { return nil }
        let c = p[0]
        if c == UInt8(ascii: "\"") {
            if dotted != 0 { flags |= jsonStringDotted }
            if high != 0 {
                flags |= jsonStringNonASCII
                if !isValidUTF8(start, p - start) { return nil }
            }
            return p
        }
        if c == UInt8(ascii: "\\") {
            flags |= jsonStringEscaped
            guard end - p >= 2 else { return nil }
            switch p[1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                 UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                p += 2
            case UInt8(ascii: "u"):
                guard end - p >= 6 else { return nil }
                for j in 2..<6 {
                    let h = p[j]
                    let isHex = (h &- 0x30) < 10 || ((h | 0x20) &- 0x61) < 6
                    if !isHex { return nil }
                }
                p += 6
            default:
                return nil
            }
            continue
        }
        if c < 0x20 { return nil }
        if c >= 0x80 { high |= 0x80 }
        if dots && c == UInt8(ascii: ".") { dotted |= 0x80 }
        p += 1
    }
}

