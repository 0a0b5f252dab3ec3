import HeraldCore
import Testing
@testable import FilterPolicy

/// The text-level number paths of the body scanner: `skipJSONNumber` (numbers nothing reads) must
/// end where `readJSONNumber` ends and fail where it fails, and `rejectedJSONNumber` (numbers a
/// path's exact-number guards rule out) may only drop valid numbers whose value is surely outside
/// the guards, ending where `readJSONNumber` ends. Seeded texts: plain decimals of every length
/// around the guards, leading zeros, exponents, truncations and stray bytes.
@Suite struct NumberGateTests {
    static func texts(seed: UInt64, around centers: [Double], count: Int) -> [String] {
        var rng = SplitMix64(seed: seed)
        func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) }) }
        var out = ["0", "-0", "-", "-.5", "01", "-01.5", "0.", "1.e5", "1e", "1e+", "1.5e-3", "00", "0.5", "-0.000000001",
                   "12345678.5", "1234567.5", "9999999.99999999", "-9999999.999999999", "37.80780792169409", "-122.41177969822667"]
        for _ in 0..<count {
            let center = centers[Int.random(in: 0..<centers.count, using: &rng)]
            var text: String
            switch Int.random(in: 0..<5, using: &rng) {
            case 0:
                // Within a few units of the 8th decimal of the center, any number of further digits.
                let v = center + Double(Int.random(in: -300...300, using: &rng)) * 1e-8
                text = fixed(v, 8) + digits(Int.random(in: 0...10, using: &rng))
            case 1:
                text = fixed(center + Double(Int.random(in: -5...5, using: &rng)) * 1e-6, Int.random(in: 0...8, using: &rng))
            case 2:
                text = (Bool.random(using: &rng) ? "-" : "") + String(Int.random(in: 0...99_999_999, using: &rng)) + "." + digits(Int.random(in: 0...20, using: &rng))
            case 3:
                text = String(center) + (Bool.random(using: &rng) ? "e" + String(Int.random(in: -3...3, using: &rng)) : "")
            default:
                text = (Bool.random(using: &rng) ? "-" : "") + String(repeating: "0", count: Int.random(in: 0...2, using: &rng)) + digits(Int.random(in: 1...9, using: &rng))
            }
            // Some texts are cut or given a stray byte; what follows is a separator, sometimes
            // close enough that fewer than 8 bytes remain.
            if Int.random(in: 0..<8, using: &rng) == 0 && text.count > 1 { text.removeLast(Int.random(in: 1..<text.count, using: &rng)) }
            if Int.random(in: 0..<10, using: &rng) == 0 { text.insert(["x", ".", "e", "-", "0"][Int.random(in: 0..<5, using: &rng)], at: text.index(text.startIndex, offsetBy: Int.random(in: 0..<text.count, using: &rng))) }
            out.append(text)
        }
        return out
    }

    /// `v` written with `decimals` decimals (|v| below 9·10^7).
    static func fixed(_ v: Double, _ decimals: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((v * Double(scale)).rounded())
        let fraction = String(scaled.magnitude % scale)
        let sign = scaled < 0 ? "-" : ""
        if decimals == 0 { return sign + String(scaled.magnitude) }
        return sign + String(scaled.magnitude / scale) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    /// Runs `body` on `text` followed by `tail` (the bytes after the number), with `end` at the tail's end.
    static func withText<R>(_ text: String, tail: String, _ body: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, Int) -> R) -> R? {
        let bytes = Array((text + tail).utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, !text.isEmpty else { return nil }
            return body(base, base + buffer.count, text.utf8.count)
        }
    }

    @Test func skippedNumbersEndWhereTheReadingEnds() {
        var checked = 0
        for text in Self.texts(seed: 3, around: [0, 1, -37.5, 123.456], count: 20_000) {
            guard let first = text.utf8.first, first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39) else { continue }
            for tail in ["", ",", "]}", ",1.5,2.25]]]"] {
                let same = Self.withText(text, tail: tail) { base, end, _ -> Bool in
                    var decimal = DecimalNumber()
                    return skipJSONNumber(base, end) == readJSONNumber(base, end, into: &decimal)
                }
                #expect(same == true, "\(text)\(tail)")
                checked += 1
            }
        }
        #expect(checked > 60_000)
    }

    @Test func rejectedNumbersAreValidAndOutsideTheGuards() throws {
        let centers = [37.80780792169409, -122.41177969822667, 0, 0.5, -3, 1234567.25]
        var rejected = 0
        var kept = 0
        for (index, center) in centers.enumerated() {
            // The guards a path with exact numbers center and center + spread gets.
            let spread = [0, 1e-6, 2.5, 0.001][index % 4]
            let low = NumberGuard.below(center), high = NumberGuard.above(center + spread)
            let gate = try #require(NumberGate(low: low, high: high))
            #expect(gate.low <= low * 1e8 && gate.high >= high * 1e8)
            for text in Self.texts(seed: UInt64(index) + 11, around: [center, center + spread, -center], count: 8_000) {
                guard let first = text.utf8.first, first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39) else { continue }
                for tail in [",", "]]],[[1,2]]}", ",-122.41177969822667,37.80780792169409,0],["] {
                    _ = Self.withText(text, tail: tail) { base, end, length in
                        var decimal = DecimalNumber()
                        let reading = readJSONNumber(base, end, into: &decimal)
                        guard let after = rejectedJSONNumber(base, end, gate) else {
                            kept += 1
                            return
                        }
                        rejected += 1
                        #expect(after == reading, "\(text)\(tail): a rejected number must end where the reading ends")
                        let value = Double(String(decoding: UnsafeBufferPointer(start: base, count: after - base), as: UTF8.self))
                        let outside = value.map { $0 <= low || $0 >= high } ?? false
                        #expect(outside, "\(text) was rejected though it is within [\(low), \(high)]")
                        // What the gate promises is what the exact path would conclude.
                        let canonical = FilterNumber.canonical(value ?? .nan)
                        #expect(canonical < center || canonical > center + spread, "\(text)")
                        _ = length
                    }
                }
            }
        }
        // Both outcomes must be common for the comparison to mean anything.
        #expect(rejected > 20_000 && kept > 5_000, "rejected \(rejected), kept \(kept)")
    }

    /// Runs of numbers in arrays (bare commas, and "],[" into a sibling array when the enclosing
    /// container is an array): seeded nested arrays under objects and arrays, some mutated so a
    /// "],[" turns up where the enclosing container is an object, a bracket is lost or doubled, or
    /// a separator changes. Validity must be the reference parser's and matches the reference's.
    @Test func numberRunsAcrossSiblingArraysMatchLikeTheReference() {
        var rng = SplitMix64(seed: 4242)
        let policies = [
            M.body(M.key("g.c", .exactNumber(37.807808))),
            M.body(M.key("g.c", .exactNumber(-1), .exactNumber(3))),
            M.body(M.key("g.c", .numeric(NumericRange(lower: 5, lowerInclusive: true, upper: 6, upperInclusive: false)))),
            M.body(M.key("g.c", .exists(true)), M.key("g.d", .exactNumber(2))),
            M.body(M.key("g.d", .anythingBut(.numbers([0])))),
            M.body(M.key("zz", .exists(false))),
        ]
        let matcher = M.matcher(policies)
        let scratch = MatchScratch()
        func number() -> String {
            ["0", "-1", "3", "3.0", "37.807808", "37.80780792169409", "-122.41177969822667", "5.5", "2", "1e0", "-0", "6"][Int.random(in: 0..<12, using: &rng)]
        }
        func array(_ depth: Int) -> String {
            let count = Int.random(in: 1...4, using: &rng)
            let elements = (0..<count).map { _ in depth > 0 && Int.random(in: 0..<3, using: &rng) != 0 ? array(depth - 1) : number() }
            return "[" + elements.joined(separator: ",") + "]"
        }
        var valid = 0, invalid = 0, matched = 0
        for round in 0..<5000 {
            var body: String
            switch round % 3 {
            case 0: body = "{\"g\":{\"c\":\(array(3)),\"d\":\(number())}}"
            case 1: body = "{\"g\":[{\"c\":\(array(2))},{\"d\":\(array(1))}]}"
            default: body = "{\"g\":{\"d\":\(array(2)),\"c\":\(array(3))},\"x\":[\(array(2))]}"
            }
            if round % 2 == 1 {
                var bytes = Array(body.utf8)
                let at = Int.random(in: 1..<bytes.count - 1, using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(bytes[at], at: at)
                case 2: bytes[at] = [UInt8(ascii: "]"), UInt8(ascii: "["), UInt8(ascii: ","), UInt8(ascii: "}")][Int.random(in: 0..<4, using: &rng)]
                case 3: bytes.insert(contentsOf: Array("],[".utf8), at: at)
                default: bytes.insert(contentsOf: Array(",[7]".utf8), at: at)
                }
                body = String(decoding: bytes, as: UTF8.self)
            }
            let bytes = Array(body.utf8)
            let input = FilterInput.body(bytes)
            if input.isMatchable { valid += 1 } else { invalid += 1 }
            let expected = policies.indices.filter { ReferenceEvaluator.matches(policies[$0], input) }
            bytes.withUnsafeBytes { _ = matcher.match(attributes: [:], body: $0, scratch: scratch) }
            let got = scratch.matchedIDs.sorted()
            #expect(got == expected, "\(body)")
            if got != expected { return }
            matched += got.count
        }
        #expect(valid > 2500 && invalid > 800, "valid \(valid), invalid \(invalid)")
        #expect(matched > 3000)
    }

    @Test func gatesNeedAUsableGuard() {
        #expect(NumberGate(low: -.infinity, high: .infinity) == nil)
        #expect(NumberGate(low: -1e9, high: 5) == nil)
        #expect(NumberGate(low: 5, high: 1e300) == nil)
        #expect(NumberGate(low: -.infinity, high: 5)?.low == -.infinity)
        #expect(NumberGate(low: 5, high: .infinity)?.high == .infinity)
    }
}
