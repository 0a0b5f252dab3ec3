@testable import FilterPolicy

/// The Swift validating skipper the body scanner used before CFilterScan replaced it (issue 12),
/// kept unchanged as the reference the C skipper is held to (`CFilterScanTests`): its verdicts
/// were checked against `JSONParser` by `ScannerFuzzTests`.
enum ReferenceSkipper {
    /// Skips any value at `start` (composite or scalar), `openDepth` containers already open.
    static func skip(_ bytes: [UInt8], start: Int, openDepth: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress, start < buffer.count else { return nil }
            let end = base + buffer.count
            let p = base + start
            let after: UnsafePointer<UInt8>?
            if p[0] == UInt8(ascii: "{") || p[0] == UInt8(ascii: "[") {
                let kinds = UnsafeMutablePointer<UInt8>.allocate(capacity: maxJSONDepth + 1)
                defer { kinds.deallocate() }
                after = skipJSONComposite(p, end, openDepth: openDepth, kinds: kinds)
            } else {
                after = skipJSONScalar(p, end)
            }
            return after.map { $0 - base }
        }
    }
}

/// Skips (and validates) one JSON object or array starting at `start`; returns the position after
/// it. Iterative: `kinds` (one byte per level, at least `maxJSONDepth` long) records which open
/// containers are arrays. `openDepth` containers are already open around it (the depth bound
/// counts them).
private func skipJSONComposite(
    _ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, openDepth: Int, kinds: UnsafeMutablePointer<UInt8>
) -> UnsafePointer<UInt8>? {
    let limit = maxJSONDepth &- openDepth
    if limit <= 0 { return nil }
    var isArray = start[0] == UInt8(ascii: "[")
    kinds[0] = isArray ? 1 : 0
    var depth = 1
    var p = skipJSONWhitespace(start + 1, end)
    guard p < end else { return nil }
    if p[0] == (isArray ? UInt8(ascii: "]") : UInt8(ascii: "}")) { return p + 1 }
    element: while true {
        // At the first byte of an element (array) or member (object); p < end.
        if !isArray {
            guard p[0] == UInt8(ascii: "\"") else { return nil }
            var flags: UInt8 = 0
            guard let close = scanJSONString(p + 1, end, &flags) else { return nil }
            p = close + 1
            if p < end && p[0] == UInt8(ascii: ":") {
                p += 1
            } else {
                p = skipJSONWhitespace(p, end)
                guard p < end, p[0] == UInt8(ascii: ":") else { return nil }
                p += 1
            }
            p = skipJSONWhitespace(p, end)
            guard p < end else { return nil }
        }
        let c = p[0]
        if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
            if depth >= limit { return nil }
            isArray = c == UInt8(ascii: "[")
            kinds[depth] = isArray ? 1 : 0
            depth &+= 1
            p = skipJSONWhitespace(p + 1, end)
            guard p < end else { return nil }
            if p[0] != (isArray ? UInt8(ascii: "]") : UInt8(ascii: "}")) { continue element }
            p += 1
            depth &-= 1
            isArray = kinds[depth &- 1] != 0
        } else if (c &- UInt8(ascii: "0")) < 10 || c == UInt8(ascii: "-") {
            // Numbers dominate large skipped arrays (coordinates): validated inline here, and while
            // a bare ',' is followed by another number, straight on to it (no re-dispatch).
            while true {
                let start = p
                if p[0] == UInt8(ascii: "-") {
                    p += 1
                    guard p < end else { return nil }
                }
                let first = p[0]
                if first == UInt8(ascii: "0") {
                    p += 1
                } else if (first &- UInt8(ascii: "1")) < 9 {
                    p = skipDigits(p + 1, end)
                } else {
                    return nil
                }
                if p < end {
                    if p[0] == UInt8(ascii: ".") {
                        let digits = p + 1
                        p = skipDigits(digits, end)
                        if p == digits { return nil }
                    }
                    if p < end && (p[0] | 0x20) == UInt8(ascii: "e") {
                        guard let after = skipJSONNumber(start, end) else { return nil }
                        p = after
                    }
                }
                if p - start > maxJSONNumberLength { return nil }
                guard isArray, end - p >= 2, p[0] == UInt8(ascii: ",") else { break }
                let next = p[1]
                guard (next &- UInt8(ascii: "0")) < 10 || next == UInt8(ascii: "-") else { break }
                p += 1
            }
        } else {
            guard let after = skipJSONScalar(p, end) else { return nil }
            p = after
        }
        // After a value: a separator, closers, or (at depth 0) done.
        while true {
            guard p < end else { return nil }
            var c = p[0]
            if c <= 0x20 {
                p = skipJSONWhitespace(p, end)
                guard p < end else { return nil }
                c = p[0]
            }
            if c == UInt8(ascii: ",") {
                p = skipJSONWhitespace(p + 1, end)
                guard p < end else { return nil }
                continue element
            }
            guard c == (isArray ? UInt8(ascii: "]") : UInt8(ascii: "}")) else { return nil }
            p += 1
            depth &-= 1
            if depth == 0 { return p }
            isArray = kinds[depth &- 1] != 0
        }
    }
}

/// Skips (and validates) a string, number or literal.
private func skipJSONScalar(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
    let c = p[0]
    if (c &- UInt8(ascii: "0")) < 10 || c == UInt8(ascii: "-") { return skipJSONNumber(p, end) }
    switch c {
    case UInt8(ascii: "\""):
        var flags: UInt8 = 0
        guard let close = scanJSONString(p + 1, end, &flags) else { return nil }
        return close + 1
    case UInt8(ascii: "t"):
        return matchLiteral(p, end, 0x6575_7274, 4) ? p + 4 : nil
    case UInt8(ascii: "f"):
        return end - p >= 5 && matchLiteral(p + 1, end, 0x6573_6c61, 4) ? p + 5 : nil
    case UInt8(ascii: "n"):
        return matchLiteral(p, end, 0x6c6c_756e, 4) ? p + 4 : nil
    default:
        return nil
    }
}

/// The first byte at or after `p` that is not an ASCII digit, eight bytes at a time.
private func skipDigits(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
    var q = p
    while end - q >= 8 {
        // x < 10 exactly for digits; a byte with x >= 10 gets its high bit set (carries only
        // disturb bytes above the first non-digit, which are not looked at).
        let x = UnsafeRawPointer(q).loadUnaligned(as: UInt64.self) ^ 0x3030_3030_3030_3030
        let nonDigits = ((x &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
        if nonDigits != 0 { return q + (nonDigits.trailingZeroBitCount >> 3) }
        q += 8
    }
    while q < end && (q[0] &- UInt8(ascii: "0")) < 10 { q += 1 }
    return q
}

/// Validates a JSON number without converting it.
private func skipJSONNumber(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
    var p = start
    if p[0] == UInt8(ascii: "-") {
        p += 1
        guard p < end else { return nil }
    }
    let first = p[0]
    if first == UInt8(ascii: "0") {
        p += 1
    } else if (first &- UInt8(ascii: "1")) < 9 {
        p = skipDigits(p + 1, end)
    } else {
        return nil
    }
    if p < end && p[0] == UInt8(ascii: ".") {
        let digits = p + 1
        p = skipDigits(digits, end)
        if p == digits { return nil }
    }
    if p < end && (p[0] | 0x20) == UInt8(ascii: "e") {
        p += 1
        if p < end && (p[0] == UInt8(ascii: "+") || p[0] == UInt8(ascii: "-")) { p += 1 }
        let digits = p
        p = skipDigits(digits, end)
        if p == digits { return nil }
    }
    return p - start <= maxJSONNumberLength ? p : nil
}
