import HeraldCore
import Testing
@testable import FilterPolicy

@Suite struct PolicyMatcherOperatorTests {
    @Test func exactStringAttribute() {
        let p = M.attributes(M.key("color", .exactString("red"), .exactString("blue")))
        #expect(M.matches(p, attributes: ["color": .string("red")]))
        #expect(M.matches(p, attributes: ["color": .string("blue")]))
        #expect(!M.matches(p, attributes: ["color": .string("Red")]))
        #expect(!M.matches(p, attributes: ["colour": .string("red")]))
        #expect(!M.matches(p, attributes: ["color": .number("1")]))
        #expect(!M.matches(p, attributes: ["color": .binary(Array("red".utf8))]))
        // A custom String.* type is a String.
        #expect(M.matches(p, attributes: ["color": MessageAttributeValue(dataType: "String.custom", payload: .string("red"))]))
    }

    @Test func exactNumberAttributeParsesNumbers() {
        let p = M.attributes(M.key("n", .exactNumber(100)))
        #expect(M.matches(p, attributes: ["n": .number("100")]))
        #expect(M.matches(p, attributes: ["n": .number("1e2")]))
        #expect(M.matches(p, attributes: ["n": .number("100.0")]))
        #expect(!M.matches(p, attributes: ["n": .string("100")]))
        #expect(!M.matches(p, attributes: ["n": .number("abc")]))
        let zero = M.attributes(M.key("n", .exactNumber(0)))
        #expect(M.matches(zero, attributes: ["n": .number("-0")]))
    }

    @Test func exactNumberAndStringTypingInBody() {
        let p = M.body(M.key("a", .exactNumber(5)))
        #expect(M.matches(p, body: #"{"a": 5}"#))
        #expect(M.matches(p, body: #"{"a": 5.0e0}"#))
        #expect(M.matches(p, body: #"{"a": 50e-1}"#))
        #expect(!M.matches(p, body: #"{"a": "5"}"#))
        let s = M.body(M.key("a", .exactString("5")))
        #expect(M.matches(s, body: #"{"a": "5"}"#))
        #expect(!M.matches(s, body: #"{"a": 5}"#))
    }

    @Test func booleansAndNull() {
        let t = M.body(M.key("b", .boolean(true)))
        #expect(M.matches(t, body: #"{"b": true}"#))
        #expect(!M.matches(t, body: #"{"b": false}"#))
        #expect(!M.matches(t, body: #"{"b": "true"}"#))
        let n = M.body(M.key("b", .null))
        #expect(M.matches(n, body: #"{"b": null}"#))
        #expect(!M.matches(n, body: #"{}"#))
        #expect(!M.matches(n, body: #"{"b": "null"}"#))
    }

    @Test func prefixSuffixAndEqualsIgnoreCase() {
        let p = M.body(M.key("s", .prefix("ab"), .prefix("xyz")))
        #expect(M.matches(p, body: #"{"s": "abc"}"#))
        #expect(M.matches(p, body: #"{"s": "ab"}"#))
        #expect(M.matches(p, body: #"{"s": "xyz1"}"#))
        #expect(!M.matches(p, body: #"{"s": "a"}"#))
        #expect(!M.matches(p, body: #"{"s": "xy"}"#))
        let s = M.body(M.key("s", .suffix("ING"), .suffix("ON")))
        #expect(M.matches(s, body: #"{"s": "KING"}"#))
        #expect(M.matches(s, body: #"{"s": "FULTON"}"#))
        #expect(!M.matches(s, body: #"{"s": "KINg"}"#))
        #expect(!M.matches(s, body: #"{"s": "N"}"#))
        let e = M.body(M.key("s", .equalsIgnoreCase("HyDe")))
        #expect(M.matches(e, body: #"{"s": "hyde"}"#))
        #expect(M.matches(e, body: #"{"s": "HYDE"}"#))
        #expect(!M.matches(e, body: #"{"s": "hyd"}"#))
        #expect(!M.matches(e, body: #"{"s": "hydes"}"#))
    }

    @Test func nonASCIIStringsCompareByBytes() {
        // The reference compares UTF-8 bytes: no Unicode normalisation.
        let exact = M.body(M.key("s", .exactString("caf\u{E9}")))
        #expect(!M.matches(exact, body: "{\"s\": \"cafe\u{301}\"}"))
        #expect(M.matches(exact, body: #"{"s": "caf\u00e9"}"#))
        #expect(M.matches(exact, body: "{\"s\": \"caf\u{E9}\"}"))
        #expect(!M.matches(exact, body: #"{"s": "cafe"}"#))
        let eic = M.body(M.key("s", .equalsIgnoreCase("\u{C9}COLE")))
        #expect(M.matches(eic, body: "{\"s\": \"\u{E9}cole\"}"))
        #expect(M.matches(eic, body: "{\"s\": \"\u{C9}cOlE\"}"))
        #expect(!M.matches(eic, body: #"{"s": "ecole"}"#))
        let prefix = M.body(M.key("s", .prefix("cafe")))
        #expect(M.matches(prefix, body: "{\"s\": \"cafe\u{301}\"}"))
        let suffix = M.body(M.key("s", .suffix("\u{E9}")))
        #expect(M.matches(suffix, body: "{\"s\": \"caf\u{E9}\"}"))
        #expect(!M.matches(suffix, body: #"{"s": "cafe"}"#))
        let notListed = M.body(M.key("s", .anythingBut(.strings(["\u{E9}"]))))
        #expect(M.matches(notListed, body: "{\"s\": \"e\u{301}\"}"))
        #expect(!M.matches(notListed, body: "{\"s\": \"\u{E9}\"}"))
    }

    @Test func pathNamesCompareAsSwiftStrings() {
        // The reference compares paths with String == (canonical equivalence).
        let body = M.body(M.key("caf\u{E9}.x", .exactNumber(1)))
        #expect(M.matches(body, body: "{\"cafe\u{301}\": {\"x\": 1}}"))
        #expect(M.matches(body, body: "{\"caf\u{E9}.x\": 1}"))
        let kelvin = M.body(M.key("\u{212A}", .exactNumber(1)))
        #expect(M.matches(kelvin, body: #"{"K": 1}"#))
        let attribute = M.attributes(M.key("K", .exactString("v")))
        #expect(M.matches(attribute, attributes: ["\u{212A}": .string("v")]))
    }

    @Test func anythingBut() {
        let strings = M.body(M.key("s", .anythingBut(.strings(["a", "b"]))))
        #expect(M.matches(strings, body: #"{"s": "c"}"#))
        #expect(!M.matches(strings, body: #"{"s": "a"}"#))
        #expect(!M.matches(strings, body: #"{"s": 1}"#), "anything-but strings matches only strings")
        #expect(!M.matches(strings, body: #"{}"#))
        #expect(M.matches(strings, body: #"{"s": ["a", "c"]}"#), "any element not listed")
        #expect(!M.matches(strings, body: #"{"s": ["a", "b"]}"#))
        let numbers = M.body(M.key("n", .anythingBut(.numbers([1, 2]))))
        #expect(M.matches(numbers, body: #"{"n": 3}"#))
        #expect(!M.matches(numbers, body: #"{"n": 1.0}"#))
        #expect(!M.matches(numbers, body: #"{"n": "3"}"#))
        let prefix = M.body(M.key("s", .anythingBut(.prefix("ab"))))
        #expect(M.matches(prefix, body: #"{"s": "ba"}"#))
        #expect(!M.matches(prefix, body: #"{"s": "abc"}"#))
        #expect(!M.matches(prefix, body: #"{"s": null}"#))
    }

    @Test func numericRanges() {
        let r = M.attributes(M.key("n", .numeric(NumericRange(lower: 0, lowerInclusive: false, upper: 100, upperInclusive: true))))
        #expect(M.matches(r, attributes: ["n": .number("100")]))
        #expect(M.matches(r, attributes: ["n": .number("0.0001")]))
        #expect(!M.matches(r, attributes: ["n": .number("0")]))
        #expect(!M.matches(r, attributes: ["n": .number("100.5")]))
        #expect(!M.matches(r, attributes: ["n": .string("50")]))
        let open = M.body(M.key("n", .numeric(NumericRange(lower: nil, lowerInclusive: false, upper: -5, upperInclusive: false))))
        #expect(M.matches(open, body: #"{"n": -1e300}"#))
        #expect(!M.matches(open, body: #"{"n": -5}"#))
        #expect(M.matches(open, body: #"{"n": -1e400}"#), "overflow reads as -infinity")
    }

    @Test func manyOverlappingRangesAgreeWithBruteForce() {
        var rng = SplitMix64(seed: 7)
        var policies: [FilterPolicy?] = []
        var ranges: [NumericRange] = []
        for _ in 0..<300 {
            let a = Double(Int.random(in: -50...50, using: &rng))
            let b = a + Double(Int.random(in: 0...30, using: &rng))
            let range = NumericRange(
                lower: Bool.random(using: &rng) ? a : nil, lowerInclusive: Bool.random(using: &rng),
                upper: Bool.random(using: &rng) ? b : nil, upperInclusive: Bool.random(using: &rng))
            ranges.append(range)
            policies.append(M.body(M.key("x", .numeric(range))))
        }
        let matcher = M.matcher(policies)
        for tenth in stride(from: -700, through: 900, by: 7) {
            let v = Double(tenth) / 10
            let expected = ranges.indices.filter { ranges[$0].contains(v) }
            #expect(M.ids(matcher, body: "{\"x\": \(v)}") == expected)
        }
    }

    @Test func numbersCompareAtSixDecimals() {
        // A 17-digit key compares as 37.807808 (FilterNumber.canonical): values that round to it
        // match, whatever the digits past the sixth decimal; the next 6-decimal step does not.
        let key = 37.80780792169409
        let p = M.body(M.key("c", .exactNumber(key)))
        #expect(M.matches(p, body: #"{"c": 37.80780792169409}"#))
        #expect(M.matches(p, body: #"{"c": 37.807807921694090000001}"#))
        #expect(M.matches(p, body: "{\"c\": \(key.nextUp)}"))
        #expect(M.matches(p, body: "{\"c\": \(key.nextDown)}"))
        #expect(M.matches(p, body: #"{"c": 37.8078084}"#))
        #expect(!M.matches(p, body: #"{"c": 37.8078086}"#))
        #expect(!M.matches(p, body: #"{"c": 37.807807}"#))
        #expect(M.matches(p, body: #"{"c": [[1, 2], [3, [37.80780792169409]]]}"#))
        let gt = M.body(M.key("c", .numeric(NumericRange(lower: key, lowerInclusive: false, upper: nil, upperInclusive: false))))
        #expect(!M.matches(gt, body: #"{"c": 37.80780792169409}"#))
        #expect(!M.matches(gt, body: "{\"c\": \(key.nextUp)}"))
        #expect(M.matches(gt, body: #"{"c": 37.807809}"#))
    }

    @Test func existsAndAbsence() {
        let exists = M.attributes(M.key("a", .exists(true)))
        #expect(M.matches(exists, attributes: ["a": .string("x")]))
        #expect(M.matches(exists, attributes: ["a": .number("1")]))
        #expect(!M.matches(exists, attributes: ["a": .binary([1])]), "Binary gives no field")
        #expect(!M.matches(exists, attributes: ["b": .string("x")]))
        let absent = M.attributes(M.key("a", .exists(false)))
        #expect(M.matches(absent, attributes: ["b": .string("x")]))
        #expect(!M.matches(absent, attributes: [:]), "no attributes at all: exists:false does not match")
        #expect(!M.matches(absent, attributes: ["a": .string("x")]))
        #expect(M.matches(absent, attributes: ["a": .binary([1])]), "Binary counts as an attribute, gives no field")
        let bodyAbsent = M.body(M.key("a", .exists(false)))
        #expect(M.matches(bodyAbsent, body: #"{}"#))
        #expect(M.matches(bodyAbsent, body: #"{"a": null}"#), "null is not a value for exists")
        #expect(M.matches(bodyAbsent, body: #"{"a": []}"#))
        #expect(!M.matches(bodyAbsent, body: #"{"a": 0}"#))
        #expect(!M.matches(bodyAbsent, body: #"[]"#), "non-object body matches nothing")
        #expect(!M.matches(bodyAbsent, body: #"{"#))
        let bodyExists = M.body(M.key("a.b", .exists(true)))
        #expect(M.matches(bodyExists, body: #"{"a": {"b": false}}"#))
        #expect(!M.matches(bodyExists, body: #"{"a": {"b": null}}"#))
        #expect(!M.matches(bodyExists, body: #"{"a": {"b": {}}}"#))
        // A key mixing a value and exists:false holds either way.
        let mixed = M.body(M.key("a", .exactString("x"), .exists(false)))
        #expect(M.matches(mixed, body: #"{"a": "x"}"#))
        #expect(M.matches(mixed, body: #"{"b": 1}"#))
        #expect(!M.matches(mixed, body: #"{"a": "y"}"#))
    }

    @Test func cidr() {
        let v4 = M.attributes(M.key("ip", .cidr(CIDRBlock(address: [10, 0, 0, 0], prefixLength: 8))))
        #expect(M.matches(v4, attributes: ["ip": .string("10.1.2.3")]))
        #expect(!M.matches(v4, attributes: ["ip": .string("11.1.2.3")]))
        #expect(!M.matches(v4, attributes: ["ip": .string("10.1.2")]))
        #expect(!M.matches(v4, attributes: ["ip": .string("10.1.2.256")]))
        var v6address = [UInt8](repeating: 0, count: 16)
        v6address[0] = 0x20; v6address[1] = 0x01; v6address[2] = 0x0d; v6address[3] = 0xb8
        let v6 = M.body(M.key("ip", .cidr(CIDRBlock(address: v6address, prefixLength: 32))))
        #expect(M.matches(v6, body: #"{"ip": "2001:db8::1"}"#))
        #expect(M.matches(v6, body: #"{"ip": "2001:0db8:0:0:0:0:0:ffff"}"#))
        #expect(!M.matches(v6, body: #"{"ip": "2001:db9::1"}"#))
        #expect(!M.matches(v6, body: #"{"ip": "2001:db8:::1"}"#))
        #expect(!M.matches(v6, body: #"{"ip": "10.0.0.1"}"#))
    }

    @Test func stringArrayAttributes() {
        let p = M.attributes(M.key("tags", .exactString("b")))
        #expect(M.matches(p, attributes: ["tags": .stringArray(json: #"["a", "b"]"#)]))
        #expect(!M.matches(p, attributes: ["tags": .stringArray(json: #"["a", ["b"]]"#)]), "nested arrays are ignored")
        #expect(!M.matches(p, attributes: ["tags": .stringArray(json: #"["a", "b""#)]), "not a JSON array: no field")
        #expect(!M.matches(p, attributes: ["tags": .stringArray(json: #""b""#)]))
        #expect(!M.matches(p, attributes: ["tags": .string(#"["a", "b"]"#)]), "only exactly String.Array is an array")
        let n = M.attributes(M.key("tags", .numeric(NumericRange(lower: 5, lowerInclusive: true, upper: nil, upperInclusive: false))))
        #expect(M.matches(n, attributes: ["tags": .stringArray(json: #"[1, "x", 7, {"a": 9}]"#)]))
        #expect(!M.matches(n, attributes: ["tags": .stringArray(json: "[1, 2]")]))
        let null = M.attributes(M.key("tags", .null))
        #expect(M.matches(null, attributes: ["tags": .stringArray(json: "[null]")]))
        let absent = M.attributes(M.key("tags", .exists(false)))
        #expect(M.matches(absent, attributes: ["tags": .stringArray(json: "[null]")]))
        #expect(M.matches(absent, attributes: ["tags": .stringArray(json: "[]")]))
    }

    @Test func bodyPathsDottedNestedArraysDuplicates() {
        let p = M.body(M.key("a.b.c", .exactString("x")))
        #expect(M.matches(p, body: #"{"a": {"b": {"c": "x"}}}"#))
        #expect(M.matches(p, body: #"{"a.b": {"c": "x"}}"#))
        #expect(M.matches(p, body: #"{"a.b.c": "x"}"#))
        #expect(M.matches(p, body: #"{"a": [{"b": [{"c": ["y", ["x"]]}]}]}"#))
        #expect(M.matches(p, body: #"{"a": {"b": {"c": "y"}}, "a": {"b": {"c": "x"}}}"#), "duplicate keys all count")
        #expect(M.matches(p, body: #"{"a\u002eb": {"c": "x"}}"#), "escaped dot in a key")
        #expect(!M.matches(p, body: #"{"a": {"b": "x"}}"#))
        #expect(!M.matches(p, body: #"{"a": {"b": {"c": {"d": "x"}}}}"#))
        let empty = M.body(M.key(".x", .exactNumber(1)))
        #expect(M.matches(empty, body: #"{"": {"x": 1}}"#))
        #expect(M.matches(empty, body: #"{".x": 1}"#))
    }

    @Test func escapedStringValues() {
        let p = M.body(M.key("s", .exactString("a\"b\\c\n\u{1F600}")))
        #expect(M.matches(p, body: #"{"s": "a\"b\\c\n\ud83d\ude00"}"#))
        #expect(!M.matches(p, body: #"{"s": "a\"b\\c\n"}"#))
    }

    @Test func orBranchesAndConjunction() {
        let p = M.body(
            M.key("k", .exactString("v")),
            or: [[PolicyConjunction(keys: [M.key("a", .exactNumber(1))]), PolicyConjunction(keys: [M.key("b", .exactNumber(2))])]])
        #expect(M.matches(p, body: #"{"k": "v", "a": 1}"#))
        #expect(M.matches(p, body: #"{"k": "v", "b": 2}"#))
        #expect(!M.matches(p, body: #"{"k": "v", "a": 2}"#))
        #expect(!M.matches(p, body: #"{"a": 1, "b": 2}"#))
    }

    @Test func nilPolicyAndScopesTogether() {
        let matcher = M.matcher([
            nil,
            M.attributes(M.key("a", .exactString("x"))),
            M.body(M.key("a", .exactString("x"))),
        ])
        #expect(M.ids(matcher, attributes: ["a": .string("x")], body: "not json") == [0, 1])
        #expect(M.ids(matcher, attributes: [:], body: #"{"a": "x"}"#) == [0, 2])
        #expect(M.ids(matcher, attributes: ["a": .string("x")], body: #"{"a": "x"}"#) == [0, 1, 2])
        #expect(M.ids(matcher) == [0])
    }

    @Test func builderAddRemoveReplace() {
        var builder = PolicyMatcherBuilder()
        builder.add(10, M.body(M.key("a", .exactNumber(1))))
        builder.add(20, M.body(M.key("a", .exactNumber(2))))
        let first = builder.build()
        builder.remove(10)
        builder.add(20, M.body(M.key("a", .exactNumber(1))))
        let second = builder.build()
        let body = Array(#"{"a": [1, 2]}"#.utf8)
        #expect(first.matches(attributes: [:], body: body).sorted() == [10, 20])
        #expect(second.matches(attributes: [:], body: body) == [20])
        #expect(PolicyMatcher().matches(attributes: [:], body: body).isEmpty)
    }

    @Test func tenThousandPoliciesEachFindsItself() {
        var builder = PolicyMatcherBuilder()
        for i in 0..<10_000 {
            builder.add(i, M.body(M.key("id", .exactString("v\(i)")), M.key("n", .numeric(.equals(Double(i % 7))))))
        }
        let matcher = builder.build()
        let scratch = MatchScratch()
        for i in stride(from: 0, to: 10_000, by: 97) {
            let body = Array("{\"id\": \"v\(i)\", \"n\": \(i % 7)}".utf8)
            body.withUnsafeBytes { _ = matcher.match(attributes: [:], body: $0, scratch: scratch) }
            #expect(scratch.matchedIDs == [i])
        }
    }
}


/// Small builders for hand-written matcher tests (ASTs built directly, no parser).
enum M {
    static func key(_ path: String, _ conditions: Condition...) -> KeyCondition {
        KeyCondition(path: path, conditions: conditions)
    }

    static func attributes(_ keys: KeyCondition..., or groups: [[PolicyConjunction]] = []) -> FilterPolicy {
        FilterPolicy(scope: .messageAttributes, root: PolicyConjunction(keys: keys, orGroups: groups))
    }

    static func body(_ keys: KeyCondition..., or groups: [[PolicyConjunction]] = []) -> FilterPolicy {
        FilterPolicy(scope: .messageBody, root: PolicyConjunction(keys: keys, orGroups: groups))
    }

    static func matcher(_ policies: [FilterPolicy?]) -> PolicyMatcher {
        var builder = PolicyMatcherBuilder()
        for (i, p) in policies.enumerated() { builder.add(i, p) }
        return builder.build()
    }

    /// Whether the single policy matches.
    static func matches(_ policy: FilterPolicy?, attributes: MessageAttributes = [:], body: String = "") -> Bool {
        matcher([policy]).matches(attributes: attributes, body: Array(body.utf8)) == [0]
    }

    static func ids(_ matcher: PolicyMatcher, attributes: MessageAttributes = [:], body: String = "") -> [Int] {
        matcher.matches(attributes: attributes, body: Array(body.utf8)).sorted()
    }
}


@Suite struct PolicyMatcherRegressionTests {
    @Test func absenceKeyWithOtherConditionsOnAPresentString() {
        let p = M.attributes(M.key("tags", .numeric(NumericRange(lower: -3, lowerInclusive: true, upper: nil, upperInclusive: true)), .exists(false), .anythingBut(.prefix("K"))))
        #expect(!M.matches(p, attributes: ["tags": .string("K"), "n": .string("x")]))
        #expect(!M.matches(p, attributes: ["tags": .string("K")]))
    }
}

extension PolicyMatcherRegressionTests {
    /// Kelvin sign and K are equal as Swift Strings but not as bytes: two anything-but conditions
    /// must not be merged into one.
    @Test func anythingButConditionsAreKeyedByBytes() {
        let ascii = M.attributes(M.key("t", .anythingBut(.prefix("K"))))
        let kelvin = M.attributes(M.key("t", .anythingBut(.prefix("\u{212A}"))))
        let matcher = M.matcher([ascii, kelvin])
        #expect(M.ids(matcher, attributes: ["t": .string("K")]) == [1])
        #expect(M.ids(matcher, attributes: ["t": .string("\u{212A}")]) == [0])
        let lists = M.matcher([M.body(M.key("t", .anythingBut(.strings(["K"])))), M.body(M.key("t", .anythingBut(.strings(["\u{212A}"]))))])
        #expect(M.ids(lists, body: #"{"t": "K"}"#) == [1])
    }

    /// A numeric condition with no bound holds for every number, NaN included (as `contains` says).
    @Test func unboundedRangeHoldsForNaN() {
        let p = M.attributes(M.key("n", .numeric(NumericRange(lower: nil, lowerInclusive: false, upper: nil, upperInclusive: false))))
        #expect(M.matches(p, attributes: ["n": .number("nan")]))
        #expect(M.matches(p, attributes: ["n": .number("1")]))
        let bounded = M.attributes(M.key("n", .numeric(NumericRange(lower: 0, lowerInclusive: true, upper: nil, upperInclusive: false))))
        #expect(!M.matches(bounded, attributes: ["n": .number("nan")]))
    }
}

/// Broad keys (anything-but, numeric, exists:true) next to a selective key are not indexed but
/// checked against the recorded fields once the selective keys hit.
@Suite struct PolicyMatcherDeferredKeyTests {
    static let key = 37.80780792169409

    @Test func broadKeysBesideASelectiveKey() {
        let p = M.body(
            M.key("id", .exactString("x")),
            M.key("region", .anythingBut(.strings(["eu"]))),
            M.key("zone", .anythingBut(.prefix("ap")), .anythingBut(.numbers([1]))),
            M.key("n", .numeric(NumericRange(lower: Self.key, lowerInclusive: false, upper: nil, upperInclusive: false))),
            M.key("p", .exists(true)))
        #expect(M.matches(p, body: "{\"id\": \"x\", \"region\": \"us\", \"zone\": \"z\", \"n\": 37.807809, \"p\": 0}"))
        #expect(!M.matches(p, body: "{\"id\": \"x\", \"region\": \"us\", \"zone\": \"z\", \"n\": \(Self.key.nextUp), \"p\": 0}"), "6-decimal reading at the bound")
        #expect(!M.matches(p, body: "{\"id\": \"y\", \"region\": \"us\", \"zone\": \"z\", \"n\": 100, \"p\": 0}"))
        #expect(M.matches(p, body: #"{"id": "x", "region": ["eu", "us"], "zone": ["apx", 2], "n": [1, 100], "p": [null, false]}"#), "any element")
        #expect(!M.matches(p, body: #"{"id": "x", "region": "eu", "zone": "z", "n": 100, "p": 0}"#))
        #expect(!M.matches(p, body: #"{"id": "x", "region": "us", "zone": ["apx", 1], "n": 100, "p": 0}"#))
        #expect(!M.matches(p, body: #"{"id": "x", "region": "us", "zone": "z", "n": "100", "p": 0}"#), "numeric needs a number")
        #expect(!M.matches(p, body: #"{"id": "x", "region": "us", "zone": "z", "n": 100, "p": null}"#), "null is not a value")
        #expect(!M.matches(p, body: #"{"id": "x", "region": "us", "zone": "z", "n": 100}"#))
        #expect(!M.matches(p, body: #"{"id": "x", "region": 5, "zone": "z", "n": 100, "p": 0}"#))
        #expect(M.matches(p, body: #"{"id": "x", "region": "u\u0073", "zone": "\u0061x", "n": 1e3, "p": "a"}"#), "escaped string recorded decoded")
    }

    @Test func deferredKeysInAttributeScopeAndManyPolicies() {
        var builder = PolicyMatcherBuilder()
        for i in 0..<1_000 {
            builder.add(i, M.attributes(
                M.key("customer", .exactString("c\(i)")),
                M.key("amount", .numeric(NumericRange(lower: Double(i), lowerInclusive: true, upper: nil, upperInclusive: false))),
                M.key("region", .anythingBut(.strings(["r\(i % 3)"])))))
        }
        let matcher = builder.build()
        for i in stride(from: 0, to: 1_000, by: 37) {
            let hit = matcher.matches(attributes: ["customer": .string("c\(i)"), "amount": .number("\(i)"), "region": .string("r\((i + 1) % 3)")], body: [])
            #expect(hit == [i])
            let lowAmount = matcher.matches(attributes: ["customer": .string("c\(i)"), "amount": .number("\(i - 1)"), "region": .string("r\((i + 1) % 3)")], body: [])
            #expect(lowAmount.isEmpty)
            let excluded = matcher.matches(attributes: ["customer": .string("c\(i)"), "amount": .number("\(i)"), "region": .string("r\(i % 3)")], body: [])
            #expect(excluded.isEmpty)
        }
    }
}

extension PolicyMatcherRegressionTests {
    /// Number attributes: JSON-syntax texts take the fast reader, others Double(text); both must
    /// give Double(text)'s value.
    @Test func numberAttributeTexts() {
        let p = M.attributes(M.key("n", .numeric(NumericRange(lower: 0.5, lowerInclusive: true, upper: 0.5, upperInclusive: true))))
        for text in ["0.5", "5e-1", ".5", "+0.5", "0.50", "0x1p-1", "000.5"] {
            #expect(M.matches(p, attributes: ["n": .number(text)]) == (Double(text) == 0.5), "\(text)")
        }
        for text in ["", "-", "0.5x", " 0.5", "nan", "1e999999"] {
            #expect(!M.matches(p, attributes: ["n": .number(text)]), "\(text)")
        }
    }
}

@Suite struct PolicyMatcherScratchTests {
    /// Stamps survive the 2^32 generation wrap (the scratch is cleared then).
    @Test func generationWrap() {
        let matcher = M.matcher([M.body(M.key("a", .exactNumber(1)), M.key("b", .exactNumber(2))), M.body(M.key("a", .exists(false)))])
        let scratch = MatchScratch()
        scratch.state.pointee.generation = UInt32.max - 2
        let both = Array(#"{"a": 1, "b": 2}"#.utf8)
        let onlyB = Array(#"{"b": 2}"#.utf8)
        for _ in 0..<6 {
            both.withUnsafeBytes { _ = matcher.match(attributes: [:], body: $0, scratch: scratch) }
            #expect(scratch.matchedIDs == [0])
            onlyB.withUnsafeBytes { _ = matcher.match(attributes: [:], body: $0, scratch: scratch) }
            #expect(scratch.matchedIDs == [1])
        }
    }

    /// One scratch reused across matchers of different sizes, and one matcher shared by threads.
    @Test func scratchReuseAndConcurrentReaders() async {
        let small = M.matcher([M.body(M.key("a", .exactNumber(1)))])
        var builder = PolicyMatcherBuilder()
        for i in 0..<2_000 { builder.add(i, M.body(M.key("a", .exactNumber(Double(i))))) }
        let large = builder.build()
        let scratch = MatchScratch()
        for i in [1, 1500, 1] {
            let body = Array("{\"a\": \(i)}".utf8)
            body.withUnsafeBytes { _ = small.match(attributes: [:], body: $0, scratch: scratch) }
            #expect(scratch.matchedIDs == (i == 1 ? [0] : []))
            body.withUnsafeBytes { _ = large.match(attributes: [:], body: $0, scratch: scratch) }
            #expect(scratch.matchedIDs == [i])
        }
        await withTaskGroup(of: Bool.self) { group in
            for t in 0..<8 {
                group.addTask {
                    (0..<500).allSatisfy { j in
                        let v = (t * 500 + j) % 2_000
                        return large.matches(attributes: [:], body: Array("{\"a\": \(v)}".utf8)) == [v]
                    }
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
