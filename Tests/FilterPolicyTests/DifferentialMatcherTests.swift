import HeraldCore
import Testing
@testable import FilterPolicy

/// The compiled matcher against the oracle: seeded random policies (every operator, `$or`, nested
/// and dotted body paths, exists true/false) and random messages (every attribute type, bodies with
/// nesting, arrays, dotted keys, duplicates, nulls, escapes, invalid and non-object bodies). Values
/// come from small vocabularies so that hits, near-misses and collisions are frequent.
@Suite struct DifferentialMatcherTests {
    @Test func manyPoliciesAtOnceAgreeWithReference() {
        var gen = RandomPolicies(seed: 20261127)
        Self.checkManyPolicies(&gen)
    }

    /// All policy attribute names ASCII, so a message's names go through the byte index: messages
    /// also carry non-ASCII names (the Kelvin sign equals "K" as Swift Strings), data types that
    /// only look like the common ones, binary payloads under text types, and texts longer than the
    /// matcher's attribute scratch.
    @Test(arguments: [UInt64(7), 2026, 31337])
    func asciiAttributeNamesAgreeWithReference(seed: UInt64) {
        var gen = RandomPolicies(seed: seed)
        gen.policyAttributeNames = ["a", "b", "c", "n", "tags", "K"]
        gen.messageAttributeNames = ["a", "b", "c", "n", "tags", "K", "\u{212A}", "caf\u{E9}", "zz"]
        let longArray = "[" + (0..<70).map { _ in "\"ab\"" }.joined(separator: ",") + "]"
        gen.extraAttributeTexts = [String(repeating: "a", count: 300), String(repeating: "ab", count: 200) + "c", "1" + String(repeating: "0", count: 300), longArray]
        gen.textDataTypes = ["String.custom", "Number.int", "String.Array.x", "String", "Number", "String.Array", "Binary",
                             "Strinh", "string", "Numbers", "String.Arrax", "String.", ".String", "Number.", "NUMBER"]
        gen.binaryDataTypes = ["Binary", "String", "Number", "String.Array"]
        Self.checkManyPolicies(&gen)
    }

    static func checkManyPolicies(_ gen: inout RandomPolicies) {
        let policies = (0..<1200).map { _ in gen.policy() }
        var builder = PolicyMatcherBuilder()
        for (id, policy) in policies.enumerated() { builder.add(id, policy) }
        let matcher = builder.build()
        let scratch = MatchScratch()
        var totalMatches = 0
        let messageCount = 250
        for _ in 0..<messageCount {
            let message = gen.message()
            let attributesInput = FilterInput.attributes(message.attributes)
            let bodyInput = FilterInput.body(message.body)
            var expected: [Int] = []
            for (id, policy) in policies.enumerated() {
                guard let policy else { expected.append(id); continue }
                let input = policy.scope == .messageBody ? bodyInput : attributesInput
                if ReferenceEvaluator.matches(policy, input) { expected.append(id) }
            }
            message.body.withUnsafeBytes { _ = matcher.match(attributes: message.attributes, body: $0, scratch: scratch) }
            let got = scratch.matchedIDs.sorted()
            totalMatches += got.count
            if got != expected {
                let missing = Set(expected).subtracting(got).sorted().prefix(3)
                let extra = Set(got).subtracting(expected).sorted().prefix(3)
                Issue.record("""
                    disagreement on body \(String(decoding: message.body, as: UTF8.self)) attributes \(message.attributes)
                    missing: \(missing.map { "\($0): \(String(describing: policies[$0]))" })
                    extra: \(extra.map { "\($0): \(String(describing: policies[$0]))" })
                    """)
                return
            }
        }
        // The generator must produce a real mix of matches and non-matches.
        #expect(totalMatches > messageCount * 20 && totalMatches < messageCount * 1100)
    }

    @Test func onePolicyAtATimeAgreesWithReference() {
        var gen = RandomPolicies(seed: 99)
        let messages = (0..<120).map { _ in gen.message() }
        let inputs = messages.map { (FilterInput.attributes($0.attributes), FilterInput.body($0.body)) }
        var matched = 0
        var checked = 0
        for _ in 0..<400 {
            guard let policy = gen.policy() else { continue }
            var builder = PolicyMatcherBuilder()
            builder.add(7, policy)
            let matcher = builder.build()
            for (message, input) in zip(messages, inputs) {
                let expected = ReferenceEvaluator.matches(policy, policy.scope == .messageBody ? input.1 : input.0)
                let got = matcher.matches(attributes: message.attributes, body: message.body) == [7]
                checked += 1
                if got { matched += 1 }
                if got != expected {
                    Issue.record("policy \(policy) body \(String(decoding: message.body, as: UTF8.self)) attributes \(message.attributes): matcher \(got), reference \(expected)")
                    return
                }
            }
        }
        #expect(checked > 40_000)
        #expect(matched > checked / 100)
    }
}

/// Seeded generator of policies and messages over small shared vocabularies.
struct RandomPolicies {
    var rng: SplitMix64
    /// The names policies use, and the names messages carry (by default the same).
    var policyAttributeNames = RandomPolicies.attributeNames
    var messageAttributeNames = RandomPolicies.attributeNames
    /// Extra string texts for attribute values (e.g. longer than the matcher's scratch).
    var extraAttributeTexts: [String] = []
    /// Data types of text payloads beyond String/Number/String.Array, and of binary payloads.
    var textDataTypes = ["String.custom", "Number.int", "String.Array.x"]
    var binaryDataTypes = ["Binary"]
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    static let bodyPaths = ["a", "b", "a.b", "a.c", "b.a", "a.b.c", "c", "x.y", "caf\u{E9}", "n"]
    static let attributeNames = ["a", "b", "c", "n", "tags", "caf\u{E9}"]
    static let strings = ["", "a", "ab", "abc", "b", "ba", "Ab", "AB", "aB", "xyz", "caf\u{E9}", "CAF\u{C9}", "cafe\u{301}",
                          "10.0.0.1", "192.168.1.7", "2001:db8::1", "10.0.0.256", "\u{212A}", "K", "k", "a\"b", "tab\tx"]
    static let numbers: [Double] = [0, 1, 1.5, 2, -3, 100, 1000, 37.80780792169409, 0.1, -122.41600944012424, 1e300]
    static let numberTexts = ["0", "-0", "1", "1.0", "1e0", "10E-1", "1.5", "15e-1", "2", "-3", "-3.0", "100", "1e2", "1000",
                              "37.80780792169409", "37.807807921694090001", "37.807807921694096", "0.1", "0.10000000000000001",
                              "-122.41600944012424", "-122.416009440124", "1e300", "1e400", "-1e400", "123456789012345678901234567890"]

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    mutating func condition() -> Condition {
        switch Int.random(in: 0..<14, using: &rng) {
        case 0, 1: return .exactString(pick(Self.strings))
        case 2: return .exactNumber(pick(Self.numbers))
        case 3: return chance(0.5) ? .boolean(chance(0.5)) : .null
        case 4: return .prefix(String(pick(Self.strings).prefix(Int.random(in: 0...2, using: &rng))))
        case 5: return .suffix(String(pick(Self.strings).suffix(Int.random(in: 0...2, using: &rng))))
        case 6: return .equalsIgnoreCase(pick(Self.strings))
        case 7:
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: return .anythingBut(.strings((0..<Int.random(in: 1...3, using: &rng)).map { _ in pick(Self.strings) }))
            case 1: return .anythingBut(.numbers((0..<Int.random(in: 1...3, using: &rng)).map { _ in pick(Self.numbers) }))
            default: return .anythingBut(.prefix(String(pick(Self.strings).prefix(1))))
            }
        case 8, 9:
            if chance(0.3) { return .numeric(.equals(pick(Self.numbers))) }
            let a = pick(Self.numbers), b = pick(Self.numbers)
            return .numeric(NumericRange(
                lower: chance(0.8) ? min(a, b) : nil, lowerInclusive: chance(0.5),
                upper: chance(0.8) ? max(a, b) : nil, upperInclusive: chance(0.5)))
        case 10, 11: return .exists(chance(0.5))
        case 12:
            return .cidr(pick([
                CIDRBlock(address: [10, 0, 0, 0], prefixLength: 8), CIDRBlock(address: [192, 168, 0, 0], prefixLength: 16),
                CIDRBlock(address: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 12), prefixLength: 32),
            ]))
        default: return .exactString(pick(Self.strings))
        }
    }

    mutating func keys(body: Bool) -> [KeyCondition] {
        (0..<Int.random(in: 1...3, using: &rng)).map { _ in
            let path = body ? pick(Self.bodyPaths) : pick(policyAttributeNames)
            return KeyCondition(path: path, conditions: (0..<Int.random(in: 1...3, using: &rng)).map { _ in condition() })
        }
    }

    mutating func policy() -> FilterPolicy? {
        if chance(0.01) { return nil }
        let body = chance(0.6)
        var groups: [[PolicyConjunction]] = []
        if chance(0.3) {
            groups.append((0..<Int.random(in: 2...3, using: &rng)).map { _ in PolicyConjunction(keys: keys(body: body)) })
        }
        return FilterPolicy(scope: body ? .messageBody : .messageAttributes, root: PolicyConjunction(keys: keys(body: body), orGroups: groups))
    }

    // MARK: Messages

    mutating func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\t": out += chance(0.5) ? "\\t" : "\\u0009"
            default:
                if scalar == "\u{E9}" && chance(0.3) { out += "\\u00e9" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    mutating func scalarJSON() -> String {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0, 1, 2: return jsonString(pick(Self.strings))
        case 3, 4, 5: return pick(Self.numberTexts.filter { !$0.hasPrefix("123") && !$0.contains("e400") } + ["-1e400"])
        case 6: return "true"
        case 7: return "false"
        default: return "null"
        }
    }

    mutating func valueJSON(depth: Int) -> String {
        if depth > 3 { return scalarJSON() }
        switch Int.random(in: 0..<10, using: &rng) {
        case 0, 1: return "[" + (0..<Int.random(in: 0...3, using: &rng)).map { _ in valueJSON(depth: depth + 1) }.joined(separator: ",") + "]"
        case 2, 3: return objectJSON(depth: depth + 1)
        default: return scalarJSON()
        }
    }

    mutating func objectJSON(depth: Int) -> String {
        let segments = ["a", "b", "c", "x", "y", "n", "a.b", "b.a", "x.y", "caf\u{E9}", "cafe\u{301}", "z"]
        let members = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
            jsonString(pick(segments)) + (chance(0.2) ? " : " : ":") + valueJSON(depth: depth)
        }
        return "{" + members.joined(separator: chance(0.2) ? " , " : ",") + "}"
    }

    mutating func body() -> [UInt8] {
        switch Int.random(in: 0..<20, using: &rng) {
        case 0: return Array(pick(["[]", "1", "\"x\"", "null", "", "[{\"a\":1}]"]).utf8)
        case 1:
            let text = objectJSON(depth: 0)
            return Array(text.utf8.prefix(max(0, text.utf8.count - 1)))  // truncated: invalid
        case 2:
            var bytes = Array(objectJSON(depth: 0).utf8)
            bytes.insert(pick([0xFF, UInt8(ascii: ","), UInt8(ascii: "}")]), at: Int.random(in: 0..<bytes.count, using: &rng))
            return bytes
        default:
            return Array(objectJSON(depth: 0).utf8)
        }
    }

    mutating func attributes() -> MessageAttributes {
        var result: MessageAttributes = [:]
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            let name = pick(messageAttributeNames)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0, 1, 2: result[name] = .string(pick(Self.strings + extraAttributeTexts))
            case 3, 4: result[name] = .number(pick(Self.numberTexts + ["abc", "", "1e", " 1", "nan", "inf", "+5", ".5"]))
            case 5, 6:
                let elements = (0..<Int.random(in: 0...3, using: &rng)).map { _ in chance(0.15) ? valueJSON(depth: 2) : scalarJSON() }
                var json = "[" + elements.joined(separator: ",") + "]"
                if chance(0.1) { json = pick(["[1,", "\"a\"", "{\"a\":1}", "[1]x", ""]) }
                result[name] = .stringArray(json: json)
            case 7:
                let type = binaryDataTypes.count == 1 ? binaryDataTypes[0] : pick(binaryDataTypes)
                result[name] = MessageAttributeValue(dataType: type, payload: .binary([1, 2, 3]))
            case 8:
                result[name] = MessageAttributeValue(dataType: pick(textDataTypes), payload: .string(pick(Self.strings + Self.numberTexts + extraAttributeTexts)))
            default: result[name] = .string(pick(Self.strings))
            }
        }
        return result
    }

    mutating func message() -> (attributes: MessageAttributes, body: [UInt8]) {
        (attributes(), body())
    }
}
