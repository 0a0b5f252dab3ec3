import HeraldCore
import Testing
@testable import FilterPolicy

/// The matcher's shortcuts for busy topics against the oracle: branches with one counted key (no
/// count kept; in attribute scope a hit matches the policy directly), multi-key counted branches,
/// and deferred keys that are one exact string (compared by id, from the branch record or the key
/// record). Policies are shaped like an order-events topic with a few thousand subscriptions, so
/// that every shortcut is compiled (checked on the storage) and hit often.
@Suite struct SlotShortcutTests {
    @Test(arguments: [FilterPolicyScope.messageAttributes, .messageBody])
    func busyTopicAgreesWithReference(scope: FilterPolicyScope) throws {
        var gen = OrderPolicies(seed: scope == .messageBody ? 11 : 12, body: scope == .messageBody)
        let policies = try (0..<3000).map { _ in try FilterPolicy.parse(gen.policyText(), scope: scope) }
        var builder = PolicyMatcherBuilder()
        for (id, policy) in policies.enumerated() { builder.add(id, policy) }
        let matcher = builder.build()

        // Every shortcut must be present in the compiled form, or this test proves nothing.
        let storage = matcher.storage
        var kinds = Set<UInt32>()
        for i in 0..<storage.slots.count { kinds.insert(storage.slots[i].target >> 30) }
        let expectedKinds: Set<UInt32> = scope == .messageBody ? [0, 1, 3] : [0, 1, 2, 3]
        #expect(kinds.isSuperset(of: expectedKinds), "slot kinds compiled: \(kinds.sorted())")
        #expect((0..<storage.branches.count).contains { storage.branches[$0].inlineStringID >= 0 })
        #expect((0..<storage.deferredRecords.count).contains { storage.deferredRecords[$0].stringID >= 0 })

        let scratch = MatchScratch()
        var total = 0
        for _ in 0..<400 {
            let message = gen.message()
            let input = scope == .messageBody ? FilterInput.body(message.body) : FilterInput.attributes(message.attributes)
            let expected = policies.indices.filter { ReferenceEvaluator.matches(policies[$0], input) }
            message.body.withUnsafeBytes { _ = matcher.match(attributes: message.attributes, body: $0, scratch: scratch) }
            let got = scratch.matchedIDs.sorted()
            total += got.count
            if got != expected {
                Issue.record("""
                    \(scope) message \(message.attributes) \(String(decoding: message.body, as: UTF8.self))
                    missing \(Set(expected).subtracting(got).sorted().prefix(3).map { gen.texts[$0] })
                    extra \(Set(got).subtracting(expected).sorted().prefix(3).map { gen.texts[$0] })
                    """)
                return
            }
        }
        // A real mix: most messages match something, none matches everything.
        #expect(total > 400 && total < 400 * 300)
    }

    /// Single-key entries carry their branch's first deferred exact string, and candidates whose
    /// string no field holds are dropped before their branch is read: several seeds of shared
    /// anchors with one or two deferred strings (some branches' string after a numeric key) against
    /// the oracle, in attribute scope.
    @Test(arguments: [21, 22, 23] as [UInt64])
    func candidatesDroppedByDeferredStringAgreeWithReference(seed: UInt64) throws {
        var gen = OrderPolicies(seed: seed, body: false)
        let policies = try (0..<1500).map { _ in try FilterPolicy.parse(gen.policyText(), scope: .messageAttributes) }
        var builder = PolicyMatcherBuilder()
        for (id, policy) in policies.enumerated() { builder.add(id, policy) }
        let matcher = builder.build()
        let storage = matcher.storage
        let carrying = (0..<storage.slots.count).filter { storage.slots[$0].target >> 30 == 1 && storage.slots[$0].slot >= 0 }
        #expect(!carrying.isEmpty, "no single-key entry carries a deferred string id")
        let scratch = MatchScratch()
        var total = 0
        for _ in 0..<300 {
            let message = gen.message()
            let expected = policies.indices.filter { ReferenceEvaluator.matches(policies[$0], .attributes(message.attributes)) }
            _ = matcher.match(attributes: message.attributes, body: UnsafeRawBufferPointer(start: nil, count: 0), scratch: scratch)
            #expect(scratch.matchedIDs.sorted() == expected, "seed \(seed), message \(message.attributes)")
            total += expected.count
        }
        #expect(total > 300)
    }

    /// A single-key branch hit several times by one message (two conditions on the key, repeated
    /// array elements, two branches of one policy) lists its policy once.
    @Test func singleKeyHitsListThePolicyOnce() throws {
        let texts = [
            #"{"customer": ["c-1", {"prefix": "c-"}, {"suffix": "-1"}]}"#,
            #"{"tags": ["t1"]}"#,
            #"{"$or": [{"tags": ["t1"]}, {"tags": ["t2"]}, {"customer": ["c-1"], "tags": ["t2"]}]}"#,
        ]
        var builder = PolicyMatcherBuilder()
        for (id, text) in texts.enumerated() { builder.add(id, try FilterPolicy.parse(text, scope: .messageAttributes)) }
        let matcher = builder.build()
        let attributes: MessageAttributes = ["customer": .string("c-1"), "tags": .stringArray(json: #"["t1","t2","t1"]"#)]
        #expect(matcher.matches(attributes: attributes, body: []) == matcher.matches(attributes: attributes, body: []).uniqued())
        #expect(matcher.matches(attributes: attributes, body: []).sorted() == [0, 1, 2])
        #expect(matcher.matches(attributes: ["tags": .stringArray(json: #"["t3"]"#)], body: []).isEmpty)
    }

    /// Single-key branches are listed once per hit, without a key mark: a value repeated far more
    /// often than the candidate list holds makes it compact itself; each policy is still listed
    /// once and agrees with the oracle.
    @Test func repeatedHitsOverflowAndCompactTheCandidateList() throws {
        let bodyTexts = [#"{"a": ["x"]}"#, #"{"a": ["x"], "b": [{"exists": false}]}"#, #"{"a": ["y"]}"#]
        let attributeTexts = [#"{"tags": ["t1"], "region": ["r"]}"#, #"{"tags": ["t1"], "region": ["s"]}"#]
        var builder = PolicyMatcherBuilder()
        var policies: [FilterPolicy] = []
        for text in bodyTexts { policies.append(try FilterPolicy.parse(text, scope: .messageBody)) }
        for text in attributeTexts { policies.append(try FilterPolicy.parse(text, scope: .messageAttributes)) }
        for (id, policy) in policies.enumerated() { builder.add(id, policy) }
        let matcher = builder.build()
        let scratch = MatchScratch()
        for repeats in [1, 7, 40, 300] {
            let xs = Array(repeating: "\"x\"", count: repeats).joined(separator: ",")
            let tags = Array(repeating: "\"t1\"", count: repeats).joined(separator: ",")
            for body in ["{\"a\":[\(xs)]}", "{\"a\":[\(xs)],\"b\":1}", "{\"a\":[\(xs),\"y\"]}", "{\"a\":[\(xs)]"] {
                let attributes: MessageAttributes = ["tags": .stringArray(json: "[\(tags)]"), "region": .string("r")]
                let expected = policies.indices.filter {
                    ReferenceEvaluator.matches(policies[$0], policies[$0].scope == .messageBody ? .body(Array(body.utf8)) : .attributes(attributes))
                }
                Array(body.utf8).withUnsafeBytes { _ = matcher.match(attributes: attributes, body: $0, scratch: scratch) }
                #expect(scratch.matchedIDs.sorted() == expected, "\(repeats) repeats, body \(body)")
                #expect(scratch.matchedIDs.count == Set(scratch.matchedIDs).count)
            }
        }
    }
}

private extension Array where Element == Int {
    func uniqued() -> [Int] {
        var seen = Set<Int>()
        return filter { seen.insert($0).inserted }
    }
}

/// Seeded order-events policies: selective anchors (customer, tag, source, type) with a second key
/// from a small vocabulary (region: one exact string, so deferred and compared by id once enough
/// policies share it), numeric and anything-but keys, absence keys and `$or`.
private struct OrderPolicies {
    var rng: SplitMix64
    let body: Bool
    var texts: [String] = []

    init(seed: UInt64, body: Bool) {
        rng = SplitMix64(seed: seed)
        self.body = body
    }

    static let regions = ["us-east-1", "us-west-2", "eu-west-1"]

    mutating func below(_ n: Int) -> Int { Int.random(in: 0..<n, using: &rng) }

    /// A key: nested under "detail" in bodies half the time (a dotted key in the policy).
    func key(_ name: String) -> String { body && name != "type" ? "\"detail.\(name)\"" : "\"\(name)\"" }

    mutating func anchor() -> String {
        switch below(10) {
        case 0, 1: return "\(key("customer")): [\"c-\(below(60))\"]"
        case 2: return "\(key("customer")): [{\"prefix\": \"c-\(below(6))\"}, \"c-\(below(60))\"]"
        case 3: return "\(key("tags")): [\"t\(below(40))\"]"
        case 4: return "\(key("source")): [{\"equals-ignore-case\": \"SRC-\(below(20))\"}]"
        default: return "\(key("type")): [\"e\(below(30))\"]"
        }
    }

    mutating func second() -> String? {
        switch below(12) {
        case 0..<5: return "\(key("region")): [\"\(Self.regions[below(3)])\"]"
        case 5: return "\(key("region")): [\"\(Self.regions[below(3)])\", \"\(Self.regions[below(3)])\"]"
        case 6:
            let low = below(100)
            return "\(key("amount")): [{\"numeric\": [\">\", \(low), \"<=\", \(low + 1 + below(20))]}]"
        case 7: return "\(key("region")): [{\"anything-but\": [\"\(Self.regions[below(3)])\"]}]"
        case 8: return "\(key("priority")): [{\"exists\": \(below(2) == 0)}]"
        case 9: return "\(key("type")): [\"e\(below(30))\"]"
        default: return nil
        }
    }

    mutating func policyText() -> String {
        if below(15) == 0 {
            // Only broad keys: no anchor, so every key is indexed and the branch counts them.
            let text = "{\(key("amount")): [{\"numeric\": [\">=\", \(below(130))]}], \(key("region")): [{\"anything-but\": [\"\(Self.regions[below(3)])\"]}]}"
            texts.append(text)
            return text
        }
        var keys = [anchor()]
        if let s = second(), !s.hasPrefix(keys[0].prefix(while: { $0 != ":" })) { keys.append(s) }
        // A third key now and then: two deferred keys (one of them an exact string) in a branch.
        if below(8) == 0 {
            let third = below(2) == 0 ? "\(key("amount")): [{\"numeric\": [\">=\", \(below(100))]}]" : "\(key("channel")): [\"web\"]"
            if !keys.contains(where: { $0.hasPrefix(third.prefix(while: { $0 != ":" })) }) { keys.append(third) }
        }
        var text = "{" + keys.joined(separator: ", ") + "}"
        if below(10) == 0 {
            text = "{\"$or\": [\(text), {\(anchor())}]}"
        }
        texts.append(text)
        return text
    }

    mutating func message() -> (attributes: MessageAttributes, body: [UInt8]) {
        let type = "e\(below(30))", customer = "c-\(below(60))", region = Self.regions[below(3)]
        let amount = below(130)
        let tags = (0..<below(4)).map { _ in "\"t\(below(40))\"" }.joined(separator: ",")
        let source = ["src-\(below(20))", "SRC-\(below(20))"][below(2)]
        let priority = below(2) == 0, channel = below(2) == 0 ? "web" : "app"
        if !body {
            var attributes: MessageAttributes = [
                "type": .string(type), "customer": .string(customer), "region": .string(region),
                "amount": .number(String(amount)), "tags": .stringArray(json: "[\(tags)]"), "source": .string(source),
                "channel": .string(channel),
            ]
            if priority { attributes["priority"] = .string("high") }
            if below(10) == 0 { attributes["region"] = nil }
            return (attributes, [])
        }
        let regionMember = below(10) == 0 ? "" : "\"region\":\"\(region)\","
        let text = """
            {"type":"\(type)","detail":{"customer":"\(customer)",\(regionMember)"amount":\(amount),"tags":[\(tags)],\
            "source":"\(source)","channel":"\(channel)"\(priority ? ",\"priority\":\"high\"" : "")}}
            """
        // Now and then an invalid body: matches nothing.
        return ([:], Array((below(25) == 0 ? String(text.dropLast()) : text).utf8))
    }
}
