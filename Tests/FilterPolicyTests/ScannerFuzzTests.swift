import HeraldCore
import Testing
@testable import FilterPolicy

/// Differential evidence for the fast scanner paths (the number-array skip, the 8-digit number
/// reading, the approximate 6-decimal rounding): seeded CityLots-shaped events and thousands of
/// byte-level mutations of them, each judged by the scanner and by the reference parser
/// (`JSONParser` through `FilterInput.body`) and matched by the compiled matcher and by
/// `ReferenceEvaluator` with the shared benchmark's policy shapes.
@Suite struct ScannerFuzzTests {
    /// Holds on every valid object and on nothing else: its match is the scanner's verdict.
    static let anyValidObject = M.matcher([M.body(M.key("zz-never", .exists(false)))])

    /// The benchmark's rule shapes (exact, prefix, suffix, equals-ignore-case, anything-but,
    /// numeric, whole-event), plus exact coordinates so the number path has hits.
    static func policies(_ coordinate: Double) -> [FilterPolicy] {
        [
            M.body(M.key("properties.MAPBLKLOT", .exactString("1430022"), .exactString("VACSTWIL"))),
            M.body(M.key("properties.STREET", .prefix("AC"), .prefix("BL"))),
            M.body(M.key("properties.STREET", .suffix("ON"), .suffix("ING"))),
            M.body(M.key("properties.STREET", .equalsIgnoreCase("bEaCh"))),
            M.body(M.key("properties.STREET", .anythingBut(.strings(["FULTON"])))),
            M.body(M.key("geometry.type", .anythingBut(.strings(["Polygon"])))),
            M.body(M.key("geometry.firstCoordinates.x", .numeric(NumericRange(lower: -122.46471267081272, lowerInclusive: false, upper: -122.4063085128395, upperInclusive: false)))),
            M.body(M.key("geometry.coordinates", .exactNumber(37.80780792169409))),
            M.body(M.key("geometry.coordinates", .exactNumber(coordinate))),
            M.body(M.key("geometry.coordinates", .numeric(NumericRange(lower: 37.8, lowerInclusive: true, upper: 37.80001, upperInclusive: true)))),
            M.body(M.key("properties.STREET", .exactString("POST")), M.key("properties.ODD_EVEN", .exactString("E"))),
        ]
    }

    @Test func mutatedCityLotsEventsAgreeWithTheReferenceParserAndEvaluator() {
        var gen = CityLotsEvents(seed: 20261206)
        let matcher = M.matcher(Self.policies(gen.pinnedCoordinate).map { $0 })
        let policies = Self.policies(gen.pinnedCoordinate)
        let scratch = MatchScratch()
        var valid = 0
        var invalid = 0
        var matched = 0
        for round in 0..<6000 {
            var body = gen.event()
            if round % 6 != 0 { gen.mutate(&body, times: 1 + round % 3) }
            let input = FilterInput.body(body)
            let referenceValid = input.isMatchable
            let scannerValid = Self.anyValidObject.matches(attributes: [:], body: body) == [0]
            if scannerValid != referenceValid {
                Issue.record("verdict differs (scanner \(scannerValid), parser \(referenceValid)): \(String(decoding: body, as: UTF8.self))")
                return
            }
            if referenceValid { valid += 1 } else { invalid += 1 }
            let expected = policies.indices.filter { ReferenceEvaluator.matches(policies[$0], input) }
            body.withUnsafeBytes { _ = matcher.match(attributes: [:], body: $0, scratch: scratch) }
            let got = scratch.matchedIDs.sorted()
            matched += got.count
            if got != expected {
                Issue.record("matches differ (\(got) vs reference \(expected)): \(String(decoding: body, as: UTF8.self))")
                return
            }
        }
        // Both verdicts must be common, and policies must hit, for the comparison to mean anything.
        #expect(valid > 1500 && invalid > 1500)
        #expect(matched > 2000)
    }

    /// Texts around 6-decimal rounding halves, long mantissas, leading zeros, exponents: the fast
    /// canonical value must equal `FilterNumber.canonical` of the correctly rounded value.
    @Test func fastCanonicalNumbersEqualTheExactOnes() {
        var rng = SplitMix64(seed: 77)
        func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) }) }
        var texts = ["0", "-0", "0.0000005", "0.00000049999999999999999", "0.0000005000000000000001", "1.0000005", "-1.0000005",
                     "37.8078075", "37.80780750000000001", "37.80780749999999999", "4503599627.3704965", "4503599627370496.5",
                     "9007199254.7409925", "123456789012345678901234567890", "1e-7", "5e-7", "1.2345675e3", "-122.41177969822667"]
        for _ in 0..<20_000 {
            let whole = Int.random(in: 0...3, using: &rng) == 0 ? "0" : String(Int.random(in: 1...999_999_999, using: &rng))
            var text = (Bool.random(using: &rng) ? "-" : "") + whole
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: text += "." + digits(6) + "5" + String(repeating: Bool.random(using: &rng) ? "0" : "9", count: Int.random(in: 0...14, using: &rng)) + digits(Int.random(in: 0...2, using: &rng))
            case 1: text += "." + digits(Int.random(in: 1...22, using: &rng))
            case 2: text += "." + String(repeating: "0", count: Int.random(in: 0...9, using: &rng)) + digits(Int.random(in: 1...18, using: &rng))
            default: text += (Bool.random(using: &rng) ? "." + digits(Int.random(in: 1...12, using: &rng)) : "") + "e" + String(Int.random(in: -12...12, using: &rng))
            }
            texts.append(text)
        }
        let powers = DecimalNumber.powersOfTen
        var mismatches = 0
        powers.withUnsafeBufferPointer { table in
            guard let powersBase = table.baseAddress else { return }
            for text in texts {
                let bytes = Array(text.utf8)
                bytes.withUnsafeBufferPointer { buffer in
                    guard let base = buffer.baseAddress else { return }
                    var decimal = DecimalNumber()
                    guard readJSONNumber(base, base + buffer.count, into: &decimal) == base + buffer.count else {
                        Issue.record("\(text) did not read as a JSON number")
                        mismatches += 1
                        return
                    }
                    let fast = canonicalJSONNumber(base, buffer.count, decimal, powersBase)
                    let exact = FilterNumber.canonical(Double(text) ?? .nan)
                    if fast.bitPattern != exact.bitPattern {
                        Issue.record("\(text): fast \(fast), exact \(exact)")
                        mismatches += 1
                    }
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func eightDigitChunksReadLikeTheDigitLoop() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<5000 {
            let bytes = (0..<8).map { _ in Int.random(in: 0..<12, using: &rng) == 0 ? UInt8(ascii: "a") : UInt8(ascii: "0") + UInt8(Int.random(in: 0...9, using: &rng)) }
            let expected: UInt64? = bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
                ? bytes.reduce(0) { $0 * 10 + UInt64($1 - 0x30) } : nil
            bytes.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                #expect(eightDigits(base, base + 8) == expected)
                #expect(eightDigits(base, base + 7) == nil)
            }
        }
    }
}

/// CityLots-shaped events (the shape of shared/bench/citylots_gen.py: string properties, then a
/// geometry whose coordinates are 17-digit numbers) and byte-level mutations biased to JSON syntax.
struct CityLotsEvents {
    var rng: SplitMix64
    /// A coordinate that every event carries, so the exact-number policy hits.
    let pinnedCoordinate = 37.80780792169409

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    static let streets = ["POST", "CASTRO", "ACKERSON", "BLAKE", "FULTON", "MASON", "BEACH", "JEFFERSON", "CRANLEIGH", "17TH"]

    mutating func coordinate(_ base: Double) -> String {
        let v = base + Double(Int.random(in: 0..<1_000_000, using: &rng)) / 1e8
        switch Int.random(in: 0..<20, using: &rng) {
        case 0: return "0"
        case 1: return String(format6(v)) + "e0"
        case 2: return String(v) + "0000001"
        default: return String(v)
        }
    }

    func format6(_ v: Double) -> String { String((v * 1e6).rounded() / 1e6) }

    mutating func event() -> [UInt8] {
        let street = Self.streets[Int.random(in: 0..<Self.streets.count, using: &rng)]
        let lot = String(Int.random(in: 1_000_000..<9_999_999, using: &rng))
        var points: [String] = []
        for i in 0..<Int.random(in: 3...15, using: &rng) {
            let y = i == 1 ? "37.80780792169409" : coordinate(37.8)
            points.append("[\(coordinate(-122.5)),\(y),0]")
        }
        let multi = Int.random(in: 0..<10, using: &rng) == 0
        let ring = "[" + points.joined(separator: ",") + "]"
        let coordinates = multi ? "[[\(ring)],[\(ring)]]" : "[\(ring)]"
        let space = Int.random(in: 0..<8, using: &rng) == 0 ? " " : ""
        let text = #"{"type":"Feature","properties":{"MAPBLKLOT":"\#(lot)","BLKLOT":"\#(lot)","STREET":"\#(street)","ODD_EVEN":"\#(Bool.random(using: &rng) ? "E" : "O")"},"geometry":{"type":"\#(multi ? "MultiPolygon" : "Polygon")","coordinates":\#(space)\#(coordinates),"firstCoordinates":{"x":\#(coordinate(-122.5)),"y":37.8,"z":0}}}"#
        return Array(text.utf8)
    }

    static let syntax: [UInt8] = Array(#"{}[],:"\-+.eE0123456789 tfn"#.utf8) + [0x09, 0x0A, 0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]

    mutating func mutate(_ body: inout [UInt8], times: Int) {
        for _ in 0..<times {
            guard !body.isEmpty else { return }
            let at = Int.random(in: 0..<body.count, using: &rng)
            let byte = Self.syntax[Int.random(in: 0..<Self.syntax.count, using: &rng)]
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: body[at] = byte
            case 1: body.insert(byte, at: at)
            case 2: body.remove(at: at)
            case 3: body.removeSubrange(at...)  // truncated
            case 4:
                // Duplicate a span (repeated keys, doubled separators or numbers).
                let end = min(body.count, at + Int.random(in: 1...12, using: &rng))
                body.insert(contentsOf: body[at..<end], at: end)
            default:
                // Escapes and trailing garbage.
                let extras: [[UInt8]] = [Array(#"\u00e9"#.utf8), Array(#"\x"#.utf8), Array(#"\ud800"#.utf8), Array(" x".utf8), [0xC3, 0xA9], [0xC3]]
                body.insert(contentsOf: extras[Int.random(in: 0..<extras.count, using: &rng)], at: Int.random(in: 0...1, using: &rng) == 0 ? at : body.count)
            }
        }
    }
}
