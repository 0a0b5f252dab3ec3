import HeraldCore
import Testing
@testable import FilterPolicy

/// Paths whose only numeric conditions are exact numbers drop a number whose approximate reading
/// lies outside guards around the lowest and highest of them, before rounding it exactly. These
/// tests put values at, just inside and just outside those bounds (including the 6-decimal rounding
/// edges and long digit strings) and compare with the oracle.
@Suite struct NumberGuardTests {
    /// Exact values of one path; the extremes are what the guards are made from.
    static let exactSets: [[String]] = [
        ["37.80780792169409"],
        ["-122.41600944012424", "37.807808", "0"],
        ["0.0000005", "0.000001"],
        ["1e15", "-1e15"],
        ["123456789.123456", "9007199254.740993"],
        ["1e300", "-1e-300"],
    ]

    /// Texts near `v`: the rounding edges (±5e-7), ±1e-6, one ulp-ish nudges in long digit strings.
    static func texts(near v: String) -> [String] {
        guard let d = Double(v) else { return [] }
        var out = [v, "\(d)", "\(d.nextUp)", "\(d.nextDown)"]
        for delta in [5e-7, 4.999999e-7, 5.000001e-7, 1e-6, 1.5e-6, 2e-6, 1e-5, 1e-3] {
            out += ["\(d + delta)", "\(d - delta)"]
        }
        // Long texts whose 17+ digits sit right beside a rounding half.
        if let six = sixDecimals((d * 1_000_000).rounded(.down)) {
            for tail in ["4999999999999", "5", "5000000000001", "49", "51"] { out.append(six + tail) }
        }
        return out.filter { $0.first.map { $0 == "-" || $0.isNumber } ?? false }
    }

    /// `scaled` / 10^6 written with exactly six decimals.
    static func sixDecimals(_ scaled: Double) -> String? {
        guard scaled.magnitude < 9e18 else { return nil }
        let n = Int64(scaled)
        let fraction = String(n.magnitude % 1_000_000)
        return (n < 0 ? "-" : "") + String(n.magnitude / 1_000_000) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    static func allTexts(_ set: [String]) -> [String] {
        set.flatMap(texts(near:)) + ["0", "-0", "1", "-1", "1e400", "-1e400", "5e-324", "123456789012345678901234567890"]
    }

    @Test(arguments: exactSets.indices)
    func bodyNumbersAtTheBoundsAgreeWithReference(set: Int) throws {
        let values = Self.exactSets[set]
        let policy = try FilterPolicy.parse("{\"geo\": {\"c\": [\(values.joined(separator: ", "))]}}", scope: .messageBody)
        var builder = PolicyMatcherBuilder()
        builder.add(1, policy)
        let matcher = builder.build()
        let guarded = (0..<matcher.storage.paths.count).contains { matcher.storage.paths[$0].numberLow.isFinite }
        #expect(guarded, "the guard must be in force for \(values)")
        var matched = 0
        for text in Self.allTexts(values) {
            for body in ["{\"geo\":{\"c\":\(text)}}", "{\"geo\":{\"c\":[[1,\(text)],[\(text),-1]]}}"] {
                let expected = ReferenceEvaluator.matches(policy, .body(Array(body.utf8)))
                let got = matcher.matches(attributes: [:], body: Array(body.utf8)) == [1]
                #expect(got == expected, "\(values) vs \(body)")
                if got { matched += 1 }
            }
        }
        #expect(matched > 0)
    }

    @Test(arguments: exactSets.indices)
    func attributeNumbersAtTheBoundsAgreeWithReference(set: Int) throws {
        let values = Self.exactSets[set]
        let policy = try FilterPolicy.parse("{\"n\": [\(values.joined(separator: ", "))]}", scope: .messageAttributes)
        var builder = PolicyMatcherBuilder()
        builder.add(1, policy)
        let matcher = builder.build()
        var matched = 0
        for text in Self.allTexts(values) {
            let attributes: MessageAttributes = ["n": .number(text)]
            let expected = ReferenceEvaluator.matches(policy, .attributes(attributes))
            let got = matcher.matches(attributes: attributes, body: []) == [1]
            #expect(got == expected, "\(values) vs \(text)")
            if got { matched += 1 }
        }
        #expect(matched > 0)
    }

    /// Seeded random exact sets and random number texts around them (short and long digit strings,
    /// exponents), several paths on one topic, bodies with nested arrays.
    @Test func seededNumbersAroundRandomBoundsAgreeWithReference() throws {
        var rng = SplitMix64(seed: 2026_1206)
        let bases = [0.0, 1, -1, 37.807808, -122.416009, 1e-6, 5e-7, 123456.5, -0.25]
        func nearby() -> Double {
            let base = bases[Int.random(in: 0..<bases.count, using: &rng)]
            return base + [0, 5e-7, -5e-7, 1e-6, -1e-6, 3e-7, 1e-3, -2][Int.random(in: 0..<8, using: &rng)]
        }
        func text(_ v: Double) -> String {
            // Swift writes tiny values with an exponent ("5e-07"): those are used as they are.
            if "\(v)".contains("e") || "\(v * 10)".contains("e") { return "\(v)" }
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return "\(v)"
            case 1: return "\(v)" + String(repeating: "0", count: Int.random(in: 0..<4, using: &rng)) + String(Int.random(in: 1..<99999, using: &rng))
            case 2: return v == 0 ? "0e5" : "\(v * 10)e-1"
            default: return Self.sixDecimals((v * 1_000_000).rounded(.down)).map { $0 + ["5", "4999999", "5000001"][Int.random(in: 0..<3, using: &rng)] } ?? "\(v)"
            }
        }
        var policies: [FilterPolicy] = []
        var builder = PolicyMatcherBuilder()
        for id in 0..<40 {
            let values = (0..<Int.random(in: 1...3, using: &rng)).map { _ in text(nearby()) }
            let path = ["p", "q", "r.s"][id % 3]
            let policy = try FilterPolicy.parse("{\"\(path)\": [\(values.joined(separator: ","))]}", scope: .messageBody)
            policies.append(policy)
            builder.add(id, policy)
        }
        let matcher = builder.build()
        var matched = 0
        for _ in 0..<1500 {
            let body = "{\"p\":[\(text(nearby())),[\(text(nearby()))]],\"q\":\(text(nearby())),\"r\":{\"s\":[\(text(nearby())),\(text(nearby()))]}}"
            let expected = policies.indices.filter { ReferenceEvaluator.matches(policies[$0], .body(Array(body.utf8))) }
            let got = matcher.matches(attributes: [:], body: Array(body.utf8)).sorted()
            #expect(got == expected, "\(body)")
            if got != expected { return }
            matched += got.count
        }
        #expect(matched > 100)
    }

    /// A path that also has ranges, anything-but or deferred reads keeps no guard (values outside
    /// the exact ones can still match), and still agrees with the oracle.
    @Test func pathsWithOtherNumericConditionsKeepNoGuard() throws {
        let texts = [
            #"{"n": [5]}"#, #"{"n": [{"numeric": [">", 100]}]}"#, #"{"n": [{"anything-but": [5]}]}"#,
        ]
        var builder = PolicyMatcherBuilder()
        let policies = try texts.map { try FilterPolicy.parse($0, scope: .messageAttributes) }
        for (id, policy) in policies.enumerated() { builder.add(id, policy) }
        let matcher = builder.build()
        #expect(!(0..<matcher.storage.paths.count).contains { matcher.storage.paths[$0].numberLow.isFinite })
        for text in ["5", "5.0000004", "5.000001", "101", "-3", "1e9"] {
            let attributes: MessageAttributes = ["n": .number(text)]
            let expected = policies.indices.filter { ReferenceEvaluator.matches(policies[$0], .attributes(attributes)) }
            #expect(matcher.matches(attributes: attributes, body: []).sorted() == expected, "\(text)")
        }
    }

    /// The guards themselves: finite, strictly outside the extremes, and what they promise holds at
    /// the guard (the largest value that may still be dropped rounds outside).
    @Test func guardsKeepTheirPromise() {
        for v in [0, 1e-7, 37.807808, -122.41600944012424, 1e15, -1e15, 9007199254.740993, 1e300, -1e-300] {
            let low = NumberGuard.below(v), high = NumberGuard.above(v)
            #expect(low < v && high > v)
            if low.isFinite { #expect(FilterNumber.canonical(low + low.magnitude * 0x1p-45) < v) }
            if high.isFinite { #expect(FilterNumber.canonical(high - high.magnitude * 0x1p-45) > v) }
        }
        #expect(NumberGuard.below(-.greatestFiniteMagnitude) == -.infinity)
        #expect(NumberGuard.above(.greatestFiniteMagnitude) == .infinity)
    }
}
