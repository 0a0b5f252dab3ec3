/// Numeric matching for the compiled engine: a fast approximate reading of JSON number text that is
/// exact whenever it can change an answer, and an interval index (segment tree over the sorted range
/// endpoints) so a value finds every numeric range containing it in O(log n).

// MARK: - Approximate-then-exact number reading

/// The decimal digits of a JSON number, read without converting: value = ±mantissa × 10^exponent
/// (plus ignored digits beyond the 19th significant one when `truncated`).
@usableFromInline
struct DecimalNumber {
    @usableFromInline var mantissa: UInt64 = 0
    @usableFromInline var exponent: Int = 0
    @usableFromInline var negative = false
    @usableFromInline var truncated = false

    @usableFromInline init() {}

    @usableFromInline static let powersOfTen: [Double] = (0...308).map { e in
        // Built from the decimal literal text so each entry is the correctly rounded 10^e.
        Double("1e\(e)") ?? .infinity
    }

    /// A close approximation, and whether it is exactly the correctly rounded value (Clinger's fast
    /// path). When not exact the relative error is below 2^-50, or the value is marked unusable
    /// (`nil`) and must be read exactly.
    @inlinable @inline(__always)
    func approximate(_ powers: UnsafePointer<Double>) -> (value: Double, exact: Bool)? {
        if mantissa == 0 && !truncated { return (negative ? -0.0 : 0.0, true) }
        let m = Double(mantissa)
        var v: Double
        let exact: Bool
        if exponent >= 0 {
            if exponent > 308 { return nil }
            v = m * powers[exponent]
            exact = !truncated && mantissa < (1 << 53) && exponent <= 22
        } else {
            if exponent < -308 { return nil }
            v = m / powers[-exponent]
            exact = !truncated && mantissa < (1 << 53) && exponent >= -22
        }
        if !exact {
            let magnitude = abs(v)
            // Near overflow or in the subnormal range the error bound does not hold.
            if !(magnitude < 1e300) || magnitude < 1e-300 { return nil }
        }
        if negative { v = -v }
        return (v, exact)
    }
}

/// Reads the digits of a JSON number at `p` (already known to start with '-' or a digit).
/// Returns the position after the number, or nil when the text is not a valid JSON number.
@inlinable @inline(__always)
func readJSONNumber(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, into number: inout DecimalNumber) -> UnsafePointer<UInt8>? {
    var q = p
    if q[0] == UInt8(ascii: "-") {
        number.negative = true
        q += 1
        if q == end { return nil }
    }
    var digits = 0
    var mantissa: UInt64 = 0
    var exponent = 0
    var truncated = false
    let first = q[0]
    if first == UInt8(ascii: "0") {
        q += 1
    } else if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") {
        mantissa = UInt64(first &- UInt8(ascii: "0"))
        digits = 1
        q += 1
        while digits <= 11, let chunk = eightDigits(q, end) {
            mantissa = mantissa &* 100_000_000 &+ chunk
            digits &+= 8
            q += 8
        }
        while q < end {
            let d = q[0] &- UInt8(ascii: "0")
            if d > 9 { break }
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                if mantissa != 0 { digits &+= 1 }
            } else {
                exponent &+= 1
                if d != 0 { truncated = true }
            }
            q += 1
        }
    } else {
        return nil
    }
    if q < end && q[0] == UInt8(ascii: ".") {
        q += 1
        let start = q
        // Eight significant digits at a time while they surely fit (leading zeros go one by one).
        while mantissa != 0 && digits <= 11, let chunk = eightDigits(q, end) {
            mantissa = mantissa &* 100_000_000 &+ chunk
            digits &+= 8
            exponent &-= 8
            q += 8
        }
        while q < end {
            let d = q[0] &- UInt8(ascii: "0")
            if d > 9 { break }
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                exponent &-= 1
                if mantissa != 0 { digits &+= 1 }
            } else if d != 0 {
                truncated = true
            }
            q += 1
        }
        if q == start { return nil }
    }
    if q < end && (q[0] | 0x20) == UInt8(ascii: "e") {
        q += 1
        if q == end { return nil }
        var negativeExponent = false
        if q[0] == UInt8(ascii: "-") || q[0] == UInt8(ascii: "+") {
            negativeExponent = q[0] == UInt8(ascii: "-")
            q += 1
        }
        let start = q
        var e = 0
        while q < end {
            let d = q[0] &- UInt8(ascii: "0")
            if d > 9 { break }
            if e < 100_000 { e = e &* 10 &+ Int(d) }
            q += 1
        }
        if q == start { return nil }
        exponent &+= negativeExponent ? -e : e
    }
    number.mantissa = mantissa
    number.exponent = exponent
    number.truncated = truncated
    return q - p <= maxJSONNumberLength ? q : nil
}

/// The value of the 8 ASCII digits at `p`, or nil when fewer than 8 bytes remain or one of them is
/// not a digit (SWAR: pairs, then quads, then the octet; the first byte is the most significant).
@inlinable @inline(__always)
func eightDigits(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UInt64? {
    guard end - p >= 8 else { return nil }
    let x = UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)) ^ 0x3030_3030_3030_3030
    // A byte is a digit exactly when x < 10 (see `skipDigits`).
    if ((x &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080 != 0 { return nil }
    var v = (x &* 10 &+ (x >> 8)) & 0x00FF_00FF_00FF_00FF
    v = (v &* 100 &+ (v >> 16)) & 0x0000_FFFF_0000_FFFF
    return (v &* 10_000 &+ (v >> 32)) & 0xFFFF_FFFF
}

/// Bounds outside which a number's approximate reading (`DecimalNumber.approximate`: relative
/// error below 2^-50 against the exact value) proves that the number's canonical value lies outside
/// [low, high]. If approx < g = below(low), the exact value x is at most approx·(1 + 2^-49.8) <
/// g + |g|·2^-45, and `canonical` is monotonic, so canonical(x) ≤ canonical(g + |g|·2^-45) < low;
/// that last inequality is checked here when the bound is made (the bound is -∞ when it fails).
/// Symmetrically above.
enum NumberGuard {
    static func below(_ low: Double) -> Double {
        let g = low - (1e-6 + low.magnitude * 0x1p-40)
        guard g.isFinite, FilterNumber.canonical(g + g.magnitude * 0x1p-45) < low else { return -.infinity }
        return g
    }

    static func above(_ high: Double) -> Double {
        let g = high + (1e-6 + high.magnitude * 0x1p-40)
        guard g.isFinite, FilterNumber.canonical(g - g.magnitude * 0x1p-45) > high else { return .infinity }
        return g
    }
}

/// `FilterNumber.canonical` of the exact value of JSON number text, reading it exactly only when
/// the fast approximation could round differently at 6 decimals. The canonical value is
/// round(fl(x × 10^6)) / 10^6; the approximation's relative error is below 2^-50, so its scaled
/// value is within |s|·2^-48 of the exact one's, and both round to the same integer unless the
/// scaled value lies within that distance of a half (margin taken 16× larger). Most long numbers
/// (e.g. 17-digit coordinates, whose Clinger fast path fails) then need no exact conversion.
@inlinable @inline(__always)
func canonicalJSONNumber(
    _ text: UnsafePointer<UInt8>, _ count: Int, _ decimal: DecimalNumber, _ powers: UnsafePointer<Double>
) -> Double {
    canonicalJSONNumber(text, count, decimal.approximate(powers))
}

/// The same, given the text's approximation (`DecimalNumber.approximate`).
@inlinable @inline(__always)
func canonicalJSONNumber(_ text: UnsafePointer<UInt8>, _ count: Int, _ approximation: (value: Double, exact: Bool)?) -> Double {
    guard let approximation else {
        return FilterNumber.canonical(exactJSONNumber(text, count))
    }
    if approximation.exact { return FilterNumber.canonical(approximation.value) }
    let scaled = approximation.value * 1_000_000
    let magnitude = scaled.magnitude
    // Below 2^52 the exact scaled value is below 2^53 too, so canonical rounds it (not returns it).
    if magnitude < 4_503_599_627_370_496 {
        let distanceToHalf = (magnitude - magnitude.rounded(.down) - 0.5).magnitude
        if distanceToHalf > magnitude * 0x1p-44 {
            return scaled.rounded(.toNearestOrAwayFromZero) / 1_000_000
        }
    }
    return FilterNumber.canonical(exactJSONNumber(text, count))
}

/// The correctly rounded value of JSON number text (slow path: allocates a String).
@usableFromInline
func exactJSONNumber(_ p: UnsafePointer<UInt8>, _ count: Int) -> Double {
    let text = String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
    return Double(text) ?? .nan
}

// MARK: - Interval index

/// Builds, per path, a segment tree over "atoms" of the real line cut at every endpoint: atom 2i is
/// the open gap below endpoint i, atom 2i+1 is the endpoint itself, atom 2m is above the last one.
/// Each range is stored at O(log m) tree nodes; a lookup walks one leaf-to-root path.
struct RangeTreeBuilder {
    var ends: [Double] = []
    var leafCount = 1
    var nodes: [[Int32]] = []

    init(ranges: [(range: NumericRange, slots: [Int32])]) {
        var points: [Double] = []
        for (range, _) in ranges {
            if let l = range.lower, !l.isNaN { points.append(l) }
            if let u = range.upper, !u.isNaN { points.append(u) }
        }
        points.sort()
        for p in points where ends.last != p { ends.append(p) }
        let atoms = 2 * ends.count + 1
        while leafCount < atoms { leafCount <<= 1 }
        nodes = Array(repeating: [], count: 2 * leafCount)
        for (range, slots) in ranges {
            if range.lower?.isNaN == true || range.upper?.isNaN == true { continue }
            var lo = 0
            if let l = range.lower, let i = index(of: l) { lo = range.lowerInclusive ? 2 * i + 1 : 2 * i + 2 }
            var hi = atoms - 1
            if let u = range.upper, let j = index(of: u) { hi = range.upperInclusive ? 2 * j + 1 : 2 * j }
            if lo > hi { continue }
            insert(lo, hi, slots, node: 1, nodeLo: 0, nodeHi: leafCount - 1)
        }
    }

    private func index(of v: Double) -> Int? {
        var lo = 0, hi = ends.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ends[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo < ends.count && ends[lo] == v ? lo : nil
    }

    private mutating func insert(_ lo: Int, _ hi: Int, _ slots: [Int32], node: Int, nodeLo: Int, nodeHi: Int) {
        if hi < nodeLo || lo > nodeHi { return }
        if lo <= nodeLo && nodeHi <= hi {
            nodes[node].append(contentsOf: slots)
            return
        }
        let mid = (nodeLo + nodeHi) / 2
        insert(lo, hi, slots, node: 2 * node, nodeLo: nodeLo, nodeHi: mid)
        insert(lo, hi, slots, node: 2 * node + 1, nodeLo: mid + 1, nodeHi: nodeHi)
    }
}

/// The atom (see `RangeTreeBuilder`) holding `v` among sorted `ends`.
@inlinable @inline(__always)
func rangeAtom(_ v: Double, _ ends: UnsafePointer<Double>, _ count: Int) -> Int {
    var lo = 0, hi = count
    while lo < hi {
        let mid = (lo &+ hi) >> 1
        if ends[mid] < v { lo = mid &+ 1 } else { hi = mid }
    }
    return lo < count && ends[lo] == v ? 2 &* lo &+ 1 : 2 &* lo
}

