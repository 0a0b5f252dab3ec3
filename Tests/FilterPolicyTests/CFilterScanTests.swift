import CFilterScan
import HeraldCore
import Testing
@testable import FilterPolicy

/// Differential evidence for CFilterScan's validating skipper: every scanning mode this CPU has
/// (scalar, AVX2, AVX-512) must give the same verdict and end offset as `ReferenceSkipper` (the
/// Swift skipper it replaced) on the same seeded inputs, and, for a value that is the whole text,
/// the same verdict as `JSONParser`.
@Suite struct CFilterScanTests {
    /// The modes to compare: each one this CPU can run (others fall back, so they add nothing).
    static let modes: [Int32] = (0...cfs_best_mode()).map { $0 }

    /// Compares every mode with the reference at `start`; records and returns false on a difference.
    @discardableResult
    static func agree(_ bytes: [UInt8], start: Int = 0, openDepth: Int = 0, whole: Bool = false) -> Bool {
        let expected = ReferenceSkipper.skip(bytes, start: start, openDepth: openDepth)
        for mode in modes {
            let got = bytes.withUnsafeBufferPointer { buffer -> Int64 in
                guard let base = buffer.baseAddress else { return -1 }
                return cfs_skip_json_value_mode(base, Int64(buffer.count), Int64(start), Int32(maxJSONDepth - openDepth), mode)
            }
            let gotOffset: Int? = got < 0 ? nil : Int(got)
            if gotOffset != expected {
                Issue.record("mode \(mode) gives \(String(describing: gotOffset)), reference \(String(describing: expected)) at \(start): \(String(decoding: bytes, as: UTF8.self))")
                return false
            }
        }
        // The parser also takes whitespace around the value; the skipper starts at a value.
        let spaces: [UInt8] = [0x20, 0x09, 0x0A, 0x0D]
        if whole && openDepth == 0 && start == 0, let first = bytes.first, let last = bytes.last, !spaces.contains(first), !spaces.contains(last) {
            let parsed = (try? JSONParser.parse(bytes, limits: JSONParser.Limits(maxDepth: maxJSONDepth))) != nil
            if parsed != (expected == bytes.count) {
                Issue.record("JSONParser says \(parsed), skipper \(String(describing: expected)): \(String(decoding: bytes, as: UTF8.self))")
                return false
            }
        }
        return true
    }

    @Test func theCPUsBestModeIsAmongTheCompared() {
        #expect(Self.modes.last == cfs_best_mode())
        #expect(cfs_best_mode() >= CFS_MODE_SCALAR && cfs_best_mode() <= CFS_MODE_AVX512)
    }

    @Test func mutatedCityLotsEventsAgreeFromEveryContainer() {
        var gen = CityLotsEvents(seed: 1212)
        var valid = 0
        var invalid = 0
        for round in 0..<3000 {
            var body = gen.event()
            if round % 4 != 0 { gen.mutate(&body, times: 1 + round % 3) }
            for start in body.indices where body[start] == UInt8(ascii: "[") || body[start] == UInt8(ascii: "{") {
                guard Self.agree(body, start: start, openDepth: start == 0 ? 0 : 2, whole: start == 0) else { return }
            }
            if ReferenceSkipper.skip(body, start: 0, openDepth: 0) == body.count { valid += 1 } else { invalid += 1 }
        }
        #expect(valid > 500 && invalid > 500)
    }

    @Test func truncationsAtEveryPositionAgree() {
        var gen = CityLotsEvents(seed: 99)
        for _ in 0..<4 {
            let body = gen.event()
            let geometry = Self.firstIndex(of: "[[", in: body) ?? 0
            for length in 0...body.count {
                let cut = Array(body[..<length])
                guard Self.agree(cut, whole: true), geometry >= length || Self.agree(cut, start: geometry, openDepth: 2) else { return }
            }
        }
    }

    /// Every byte value at every position of a short array of numbers, strings and literals, at
    /// offsets that put the replaced byte on each side of 16-, 32- and 64-byte blocks.
    @Test func everyByteAtEveryPositionAgrees() {
        let template = Array(#"[-122.41177969822667,37.80574790919513,0,[1e5,-0.5E-3,2e+7],"a\u00e9\"b",true,false,null,[]]"#.utf8)
        for lead in [0, 1, 15, 31, 33, 63] {
            // Leading numbers shift the template against the blocks.
            let prefix = Array(("[" + String(repeating: "1,", count: lead / 2) + (lead % 2 == 1 ? "10," : "")).utf8)
            let base = prefix + template + Array("]".utf8)
            for at in prefix.count..<(prefix.count + template.count) {
                for byte in UInt8.min...UInt8.max {
                    var bytes = base
                    bytes[at] = byte
                    guard Self.agree(bytes, whole: true) else { return }
                }
            }
        }
    }

    @Test func invalidUTF8InStringsAgrees() {
        let sequences: [[UInt8]] = [
            [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],  // valid
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],  // overlong
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // surrogates
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xFE],  // past U+10FFFF, never valid
            [0x80], [0xBF], [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC3, 0x41], [0xE2, 0x28, 0xA1],  // stray, truncated
        ]
        var valid = 0
        for sequence in sequences {
            for pad in 0..<40 {
                let text = Array("[1,2,{\"k\":\"".utf8) + Array(repeating: UInt8(ascii: "x"), count: pad) + sequence + Array("\"},3]".utf8)
                guard Self.agree(text, whole: true) else { return }
                if ReferenceSkipper.skip(text, start: 0, openDepth: 0) != nil { valid += 1 }
            }
        }
        #expect(valid == 4 * 40)
    }

    @Test func nestingAtAndPastTheLimitAgrees() {
        for openDepth in [0, 1, 200] {
            let limit = maxJSONDepth - openDepth
            for depth in [limit - 1, limit, limit + 1] {
                let plain = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                let withNumbers = String(repeating: "[1,", count: depth) + "2" + String(repeating: "]", count: depth)
                let mixed = String(repeating: "[1,{\"a\":", count: depth / 2) + "3" + String(repeating: "}]", count: depth / 2)
                for text in [plain, withNumbers, mixed] {
                    guard Self.agree(Array(text.utf8), openDepth: openDepth, whole: true) else { return }
                }
            }
            #expect(ReferenceSkipper.skip(Array((String(repeating: "[1,", count: limit) + "2" + String(repeating: "]", count: limit)).utf8), start: 0, openDepth: openDepth) != nil)
            #expect(ReferenceSkipper.skip(Array((String(repeating: "[1,", count: limit + 1) + "2" + String(repeating: "]", count: limit + 1)).utf8), start: 0, openDepth: openDepth) == nil)
        }
    }

    /// Arrays of tricky number texts and brackets, at random lengths (so tokens straddle every
    /// block boundary), then mutated: the window's mask rules against the scalar grammar.
    @Test func randomNumberArraysAgree() {
        let tokens = ["0", "-0", "01", "-01", "00", "1.", ".5", "1e", "1e+5", "1E5", "1e-5", "-", "--1", "1.2.3", "1e5e3", "1.5e3.2",
                      "0.0e-0", "12345678901234567890", "1-2", "1e-", "1.e5", "0e1", "-122.41177969822667", "37.80574790919513",
                      "[]", "[[]]", "[0]", "{}", "\"s\"", "true", "1e--5", "-.5", "0.5e", "9e9", "-0.0", "10", "1.0e10"]
        var rng = SplitMix64(seed: 2026)
        var valid = 0
        var invalid = 0
        for round in 0..<20_000 {
            var text = "["
            var open = 1
            for i in 0..<Int.random(in: 1...40, using: &rng) {
                if i > 0 { text += "," }
                switch Int.random(in: 0..<12, using: &rng) {
                case 0 where open < 6:
                    text += "["
                    open += 1
                    text += tokens[Int.random(in: 0..<tokens.count, using: &rng)]
                case 1 where open > 1:
                    text += tokens[Int.random(in: 0..<tokens.count, using: &rng)] + "]"
                    open -= 1
                case 2, 3:
                    text += tokens[Int.random(in: 0..<tokens.count, using: &rng)]
                default:
                    text += Int.random(in: 0..<2, using: &rng) == 0 ? "-12\(Int.random(in: 0..<10, using: &rng)).\(UInt64.random(in: 0..<UInt64.max, using: &rng))" : "\(Int.random(in: 0..<100_000, using: &rng))"
                }
            }
            text += String(repeating: "]", count: open)
            var bytes = Array(text.utf8)
            if round % 2 == 1 {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                let alphabet = Array("0123456789-+.eE,[]{} \"".utf8)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[at] = alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
                case 1: bytes.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)], at: at)
                default: bytes.remove(at: at)
                }
            }
            guard !bytes.isEmpty, Self.agree(bytes, whole: true) else { return }
            if ReferenceSkipper.skip(bytes, start: 0, openDepth: 0) == bytes.count { valid += 1 } else { invalid += 1 }
        }
        #expect(valid > 1000 && invalid > 1000)
    }

    /// A number run whose last ',' or ']' lies blocks before its end: whole blocks of only '['
    /// (the depth moves, no commit point) and then a break or a valid tail, near the depth bound
    /// too. The run may commit only up to that ',' with the depth it had there.
    @Test func openingsAfterTheLastSeparatorAgree() {
        var valid = 0
        for openDepth in [0, maxJSONDepth - 128] {
            for opens in [1, 2, 60, 63, 64, 65, 127, 128, 129, 180] {
                for lead in ["[1,", "[-1.5,0,", "[[1],", "[" + String(repeating: "7,", count: 40)] {
                    for tail in ["2", "01", "\"s\"", "1.2.3", "[]", "{\"a\":1}", "-", "3e5"] {
                        let text = lead + String(repeating: "[", count: opens) + tail + String(repeating: "]", count: opens + 1)
                        let bytes = Array(text.utf8)
                        guard Self.agree(bytes, openDepth: openDepth, whole: true) else { return }
                        if ReferenceSkipper.skip(bytes, start: 0, openDepth: openDepth) == bytes.count { valid += 1 }
                    }
                }
            }
        }
        // The tails "2", "[]", {"a":1} and "3e5" are valid within the bound; with 128 levels left,
        // 127 '[' inside the outer array reach it exactly and one more breaks it.
        #expect(valid > 100)
    }

    @Test func theBodyScannerStillRejectsWhatTheParserRejects() {
        // A coordinate run long enough for the window path, broken in ways only validation sees.
        let ring = (0..<20).map { _ in "[-122.41177969822667,37.80574790919513,0]" }.joined(separator: ",")
        let matcher = M.matcher([M.body(M.key("properties.STREET", .exactString("POST")))])
        for (broken, valid) in [("", true), ("01", false), ("1.2.3", false), ("1e5e3", false), ("-", false), ("1e-5", true), ("[]", true)] {
            let coordinates = broken.isEmpty ? "[[\(ring)]]" : "[[\(ring),[\(broken),1,2]]]"
            let body = Array(#"{"properties":{"STREET":"POST"},"geometry":{"coordinates":\#(coordinates)}}"#.utf8)
            #expect(matcher.matches(attributes: [:], body: body) == (valid ? [0] : []), "\(broken)")
            #expect(FilterInput.body(body).isMatchable == valid)
        }
    }

    static func firstIndex(of needle: String, in bytes: [UInt8]) -> Int? {
        let n = Array(needle.utf8)
        guard bytes.count >= n.count else { return nil }
        return (0...(bytes.count - n.count)).first { Array(bytes[$0..<($0 + n.count)]) == n }
    }
}
