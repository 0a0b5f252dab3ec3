import Foundation
import HeraldCore
@testable import FilterPolicy

/// The shared conformance corpus (`Fixtures/filter-cases.json`, a copy of
/// `shared/conformance/filter-cases.json`) and a runner any evaluator can be checked with:
/// `ConformanceCorpus.failures(evaluator: ReferenceEvaluator.matches)` today, the compiled
/// matcher later with one more test.
enum ConformanceCorpus {
    struct Failure: CustomStringConvertible {
        var id: String
        var detail: String
        var description: String { "\(id): \(detail)" }
    }

    static func load() throws -> [PolicyCase] {
        guard let url = Bundle.module.url(forResource: "filter-cases", withExtension: "json", subdirectory: "Fixtures") else {
            throw CocoaError(.fileNoSuchFile)
        }
        let bytes = [UInt8](try Data(contentsOf: url))
        // The case file is parsed with the policy parser itself so key order and number text survive.
        return try PolicyCase.decodeList(try FilterPolicy.parseJSON(bytes, maxDepth: 64))
    }

    /// Every case whose outcome (or recorded SNS error text) differs from its `expect`, except the
    /// ids in `KnownDisagreements`, which must each disagree exactly as documented.
    static func failures(
        _ cases: [PolicyCase],
        evaluator: (FilterPolicy, FilterInput) -> Bool
    ) -> [Failure] {
        var failures: [Failure] = []
        for testCase in cases {
            let result = testCase.run(evaluator: evaluator)
            if let known = KnownDisagreements.table[testCase.id] {
                if result.passed || result.outcome != known.herald {
                    failures.append(Failure(id: testCase.id, detail: "known disagreement no longer holds as documented (got \(result.outcome.rawValue))"))
                }
                continue
            }
            if !result.passed {
                failures.append(Failure(id: testCase.id, detail: result.mismatch ?? "failed"))
            }
        }
        return failures
    }
}

/// Corpus cases Herald deliberately disagrees with, each with its evidence. Also listed in
/// docs/FILTER-POLICIES.md ("Known disagreements with the corpus").
enum KnownDisagreements {
    struct Entry {
        /// What Herald does instead of the case's `expect`.
        var herald: PolicyCase.Outcome
        var evidence: String
    }

    private static let stringAnythingButOnNumber = Entry(
        herald: .nomatch,
        evidence: "moto-only: expects a string anything-but [\"100\"] to match Number values (even 100). Herald follows "
            + "contract rule 4 and spec §1.4 (string conditions never match numbers); unverified on AWS.")

    static let table: [String: Entry] = [
        "moto-035": Entry(
            herald: .nomatch,
            evidence: "moto-only: expects a String.Array attribute whose value is the bare number 100 (not a JSON array) "
                + "to match [100, 500]. Contract rule 1: a String.Array value that is not a JSON array gives no field."),
        "moto-088": stringAnythingButOnNumber, "moto-089": stringAnythingButOnNumber, "moto-090": stringAnythingButOnNumber,
        "moto-091": stringAnythingButOnNumber, "moto-092": stringAnythingButOnNumber, "moto-093": stringAnythingButOnNumber,
        "moto-129": Entry(
            herald: .valid,
            evidence: "moto expects an InternalError (HTTP 500), not an InvalidParameter rejection, for the bare number "
                + "1000000001. LocalStack's validator notes AWS accepts numbers beyond ±10^9, and Event Ruler keeps a "
                + "bare number it cannot range-encode as a literal match. Spec Appendix B #3: do not reject."),
    ]
}
