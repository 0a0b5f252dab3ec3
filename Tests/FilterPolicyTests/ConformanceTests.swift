import Testing
import HeraldCore
@testable import FilterPolicy

@Suite struct ConformanceTests {
    @Test func corpusLoadsEveryCase() throws {
        let cases = try ConformanceCorpus.load()
        #expect(cases.count == 376)
        #expect(Set(cases.map(\.id)).count == cases.count)
    }

    @Test func referenceEvaluatorPassesTheCorpus() throws {
        let cases = try ConformanceCorpus.load()
        let failures = ConformanceCorpus.failures(cases, evaluator: ReferenceEvaluator.matches)
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.map(\.description).joined(separator: "\n"))")
    }

    /// The compiled matcher through the same corpus (each case's policy alone on a topic), and all
    /// the corpus's valid attribute-scope policies on one topic at once: each message's match set
    /// equals the reference's.
    @Test func compiledMatcherPassesTheCorpus() throws {
        let cases = try ConformanceCorpus.load()
        let failures = cases.filter { !KnownDisagreements.table.keys.contains($0.id) && !$0.runCompiled().passed }
        #expect(failures.isEmpty, "\(failures.map { "\($0.id): \($0.runCompiled().mismatch ?? "")" })")
        let known = cases.filter { KnownDisagreements.table.keys.contains($0.id) }
        #expect(known.allSatisfy { $0.runCompiled().outcome == KnownDisagreements.table[$0.id]?.herald })

        var builder = PolicyMatcherBuilder()
        var policies: [Int: FilterPolicy] = [:]
        for (index, testCase) in cases.enumerated() {
            if let policy = try? FilterPolicy.parse(testCase.policyText, scope: testCase.scope) {
                builder.add(index, policy)
                policies[index] = policy
            }
        }
        let matcher = builder.build()
        for testCase in cases where testCase.hasMessage {
            let attributes = testCase.attributes ?? [:], body = testCase.body ?? []
            let expected = policies.filter { ReferenceEvaluator.matches($0.value, attributes: attributes, body: body) }.keys.sorted()
            #expect(matcher.matches(attributes: attributes, body: body).sorted() == expected, "message of \(testCase.id)")
        }
    }

    @Test func theRunnerCatchesAWrongEvaluator() throws {
        let cases = try ConformanceCorpus.load()
        let alwaysMatch = ConformanceCorpus.failures(cases, evaluator: { _, _ in true })
        let expectedNoMatch = cases.filter { $0.expect == .nomatch && !KnownDisagreements.table.keys.contains($0.id) }.count
        // Every nomatch case fails under an evaluator that always says match.
        #expect(alwaysMatch.count >= expectedNoMatch)
        #expect(alwaysMatch.contains { $0.id == "ls-aws-008" })
    }

    @Test func corpusTotals() throws {
        let cases = try ConformanceCorpus.load()
        let passing = cases.filter { $0.run(evaluator: ReferenceEvaluator.matches).passed }
        #expect(passing.count == 368)
        #expect(KnownDisagreements.table.count == cases.count - passing.count)
        // Every AWS-recorded case passes, error texts included.
        #expect(cases.filter(\.awsValidated).allSatisfy { $0.run(evaluator: ReferenceEvaluator.matches).passed })
    }

    @Test func everyKnownDisagreementNamesARealCase() throws {
        let ids = Set(try ConformanceCorpus.load().map(\.id))
        for id in KnownDisagreements.table.keys {
            #expect(ids.contains(id), "unknown case \(id)")
        }
    }
}
