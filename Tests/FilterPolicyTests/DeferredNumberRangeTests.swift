import HeraldCore
import Testing
@testable import FilterPolicy

/// Deferred keys that are one numeric or exact-number condition are checked against the closed
/// interval kept in their key record (exclusive bounds moved one double inward), not through their
/// check record. Seeded policies whose second key is such a condition, with bounds on both sides,
/// one side, inclusive and exclusive, against the oracle on values at, just inside and just outside
/// every bound (in attribute scope one number per field; in body scope arrays of them).
@Suite struct DeferredNumberRangeTests {
    @Test(arguments: [(FilterPolicyScope.messageAttributes, 31), (.messageAttributes, 32), (.messageBody, 33)] as [(FilterPolicyScope, UInt64)])
    func deferredNumberRangesAgreeWithReference(scope: FilterPolicyScope, seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        let bounds: [Double] = [-3, 0, 0.5, 5, 7.25, 10, 1_000_000]
        let ops = [">", ">=", "<", "<="]
        var texts: [String] = []
        for _ in 0..<600 {
            let i = below(bounds.count), j = (i + 1 + below(bounds.count - 1)) % bounds.count
            let a = bounds[i], b = bounds[j]  // distinct: a range's bottom must be below its top
            let condition: String
            switch below(4) {
            case 0: condition = #"{"numeric": ["\#(ops[below(4)])", \#(a)]}"#
            case 1: condition = #"{"numeric": ["\#(ops[below(2)])", \#(min(a, b)), "\#(ops[2 + below(2)])", \#(max(a, b))]}"#
            case 2: condition = #"{"numeric": ["=", \#(a)]}"#
            default: condition = "\(a)"
            }
            texts.append(#"{"customer": ["c-\#(below(20))"], "amount": [\#(condition)]}"#)
        }
        let policies = try texts.map { try FilterPolicy.parse($0, scope: scope) }
        var builder = PolicyMatcherBuilder()
        for (id, policy) in policies.enumerated() { builder.add(id, policy) }
        let matcher = builder.build()
        let storage = matcher.storage
        // The interval path must be compiled, or this test proves nothing.
        #expect((0..<storage.deferredRecords.count).contains { storage.deferredRecords[$0].byNumberRange })

        var values: [Double] = [-1e9, 1e9, -0.0]
        for v in bounds { values += [v, v.nextUp, v.nextDown, v + 0.000001, v - 0.000001] }
        let scratch = MatchScratch()
        var total = 0
        for _ in 0..<500 {
            let customer = "c-\(below(20))"
            let amounts = (0..<(scope == .messageBody ? 1 + below(3) : 1)).map { _ in values[below(values.count)] }
            let attributes: MessageAttributes = ["customer": .string(customer), "amount": .number("\(amounts[0])")]
            let body = Array(#"{"customer": "\#(customer)", "amount": [\#(amounts.map { "\($0)" }.joined(separator: ","))]}"#.utf8)
            let input = scope == .messageBody ? FilterInput.body(body) : FilterInput.attributes(attributes)
            let expected = policies.indices.filter { ReferenceEvaluator.matches(policies[$0], input) }
            body.withUnsafeBytes { _ = matcher.match(attributes: scope == .messageBody ? [:] : attributes, body: $0, scratch: scratch) }
            let got = scratch.matchedIDs.sorted()
            total += expected.count
            if got != expected {
                Issue.record("""
                    seed \(seed) \(scope) amounts \(amounts) customer \(customer)
                    missing \(Set(expected).subtracting(got).sorted().prefix(3).map { texts[$0] })
                    extra \(Set(got).subtracting(expected).sorted().prefix(3).map { texts[$0] })
                    """)
                return
            }
        }
        #expect(total > 500)
    }
}
