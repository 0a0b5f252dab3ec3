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

    @Test func theRunnerCatchesAWrongEvaluator() throws {
        let cases = try ConformanceCorpus.load()
        let alwaysMatch = ConformanceCorpus.failures(cases, evaluator: { _, _ in true })
        let expectedNoMatch = cases.filter { $0.expect == .nomatch && !KnownDisagreements.table.keys.contains($0.id) }.count
        // Every nomatch case fails, and the six known "nomatch" disagreements now disagree differently.
        #expect(alwaysMatch.count >= expectedNoMatch)
        #expect(alwaysMatch.contains { $0.id == "moto-021" })
    }

    @Test func corpusTotals() throws {
        let cases = try ConformanceCorpus.load()
        let passing = cases.filter { $0.run(evaluator: ReferenceEvaluator.matches).passed }
        #expect(passing.count == 364)
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
