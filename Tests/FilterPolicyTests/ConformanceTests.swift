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

    @Test func everyKnownDisagreementNamesARealCase() throws {
        let ids = Set(try ConformanceCorpus.load().map(\.id))
        for id in KnownDisagreements.table.keys {
            #expect(ids.contains(id), "unknown case \(id)")
        }
    }
}
