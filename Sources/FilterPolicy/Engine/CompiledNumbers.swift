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


// MARK: - Numbers no condition can use

/// Skips (and validates) one JSON number at `p` (already known to start with '-' or a digit) that
/// nothing reads: the same grammar, end and length bound as `readJSONNumber`, without the value.
@inlinable @inline(__always)
func skipJSONNumber(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
    var q = p
    if q[0] == UInt8(ascii: "-") {
        q += 1
        if q == end { return nil }
    }
    let first = q[0]
    if first == UInt8(ascii: "0") {
        q += 1
    } else if first &- UInt8(ascii: "1") < 9 {
        q = skipJSONDigits(q + 1, end)
    } else {
        return nil
    }
    if q < end && q[0] == UInt8(ascii: ".") {
        let digits = q + 1
        q = skipJSONDigits(digits, end)
        if q == digits { return nil }
    }
    if q < end && (q[0] | 0x20) == UInt8(ascii: "e") {
        q += 1
        if q < end && (q[0] == UInt8(ascii: "-") || q[0] == UInt8(ascii: "+")) { q += 1 }
        let digits = q
        q = skipJSONDigits(digits, end)
        if q == digits { return nil }
    }
    return q - p <= maxJSONNumberLength ? q : nil
}

/// The first byte at or after `p` that is not an ASCII digit, eight bytes at a time.
@inlinable @inline(__always)
func skipJSONDigits(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8> {
    var q = p
    while end - q >= 8 {
        let x = UInt64(littleEndian: UnsafeRawPointer(q).loadUnaligned(as: UInt64.self)) ^ 0x3030_3030_3030_3030
        let nonDigits = ((x &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
        if nonDigits != 0 { return q + (nonDigits.trailingZeroBitCount >> 3) }
        q += 8
    }
    while q < end && q[0] &- UInt8(ascii: "0") < 10 { q += 1 }
    return q
}

/// A path's number guards (`PathInfo.numberLow` / `numberHigh`) in units of 10^-8, widened to
/// integers: `low` ≤ numberLow·10^8 and `high` ≥ numberHigh·10^8 exactly. Below 9·10^7 in
/// magnitude the scaled guards stay below 2^53, where the product is off by at most 0.5 and
/// integers are exact, so one unit of slack covers the rounding. An infinite guard stays infinite
/// (that side never rejects); nil when neither side can reject or a guard is too large.
@usableFromInline
struct NumberGate {
    @usableFromInline let low: Double
    @usableFromInline let high: Double

    @inlinable @inline(__always)
    init?(low: Double, high: Double) {
        let lowUsable = low > -9e7 && low < 9e7
        let highUsable = high > -9e7 && high < 9e7
        guard (lowUsable || low == -.infinity) && (highUsable || high == .infinity), lowUsable || highUsable else { return nil }
        self.low = (low * 1e8).rounded(.down) - 1
        self.high = (high * 1e8).rounded(.up) + 1
    }
}

/// When the JSON number at `p` is surely outside the gate's guards, and so can change no answer
/// (see `NumberGuard`: every value at or below the low guard rounds below the path's lowest exact
/// number, symmetrically above): the position after it, validated as `readJSONNumber` would.
/// nil when it may be inside, or is not in the plain form read here (at most 7 integer digits, no
/// exponent, 8 readable bytes after a '.'), or is invalid: the caller then reads it in full.
/// From the sign, integer part I and the first 8 fraction digits F (zero-padded), the magnitude
/// lies in [N, N + 1]·10^-8 with N = I·10^8 + F < 2^53, compared against the gate exactly; the
/// integer part alone (magnitude in [I, I + 1]) settles most numbers before the fraction is read.
@inlinable @inline(__always)
func rejectedJSONNumber(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ gate: NumberGate) -> UnsafePointer<UInt8>? {
    var q = p
    let negative = q[0] == UInt8(ascii: "-")
    if negative { q += 1 }
    guard q < end else { return nil }
    let integerStart = q
    var integer = UInt64(q[0] &- UInt8(ascii: "0"))
    if integer > 9 { return nil }
    q += 1
    if integer != 0 {
        while q < end {
            let d = q[0] &- UInt8(ascii: "0")
            if d > 9 { break }
            integer = integer &* 10 &+ UInt64(d)
            q += 1
        }
        if q - integerStart > 7 { return nil }
    } else if q < end && q[0] &- UInt8(ascii: "0") < 10 {
        return nil  // a leading zero: invalid, which the full reading reports
    }
    // Most rejections need only the sign and the integer part: the magnitude is in [I, I + 1].
    let whole = Double(integer) * 100_000_000
    if negative ? (-whole <= gate.low || -(whole + 100_000_000) >= gate.high) : (whole + 100_000_000 <= gate.low || whole >= gate.high) {
        if q < end && q[0] == UInt8(ascii: ".") {
            let digits = q + 1
            q = skipJSONDigits(digits, end)
            if q == digits { return nil }
        }
        if q < end && (q[0] | 0x20) == UInt8(ascii: "e") { return nil }
        return q - p <= maxJSONNumberLength ? q : nil
    }
    var fraction: UInt64 = 0
    if q < end && q[0] == UInt8(ascii: ".") {
        q += 1
        guard end - q >= 8 else { return nil }
        let x = UInt64(littleEndian: UnsafeRawPointer(q).loadUnaligned(as: UInt64.self)) ^ 0x3030_3030_3030_3030
        let nonDigits = ((x &+ 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080
        // The digit run's length in bytes; the bytes after it become zeros (padding digits).
        let bits = nonDigits.trailingZeroBitCount & ~7
        if bits == 0 { return nil }
        var v = bits == 64 ? x : x & ((1 << UInt64(bits)) &- 1)
        v = (v &* 10 &+ (v >> 8)) & 0x00FF_00FF_00FF_00FF
        v = (v &* 100 &+ (v >> 16)) & 0x0000_FFFF_0000_FFFF
        fraction = (v &* 10_000 &+ (v >> 32)) & 0xFFFF_FFFF
        q += bits >> 3
        if bits == 64 { q = skipJSONDigits(q, end) }
    }
    if q < end && (q[0] | 0x20) == UInt8(ascii: "e") { return nil }
    if q - p > maxJSONNumberLength { return nil }
    let n = Double(integer &* 100_000_000 &+ fraction)
    let rejected = negative ? (-n <= gate.low || -(n + 1) >= gate.high) : (n + 1 <= gate.low || n >= gate.high)
    return rejected ? q : nil
}
