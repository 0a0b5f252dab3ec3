// BenchHTTPReport: the results of `herald bench http` — per scenario the Herald rates and wrk's,
// each side's median and spread, and the ratio of the medians — printed as a table at the end
// (with progress lines on stderr as runs finish), or as one JSON document with --json.
// Used from the bench's thread only.
import Foundation

/// One side's runs of one scenario.
struct BenchHTTPSide {
    var rates: [Double] = []

    var sorted: [Double] { rates.sorted() }
    var median: Double? {
        let sorted = sorted
        guard !sorted.isEmpty else { return nil }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    /// (max − min) / median: the run-to-run noise.
    var spread: Double? {
        guard let median, median > 0, let low = sorted.first, let high = sorted.last else { return nil }
        return (high - low) / median
    }
}

/// One row of the table.
struct BenchHTTPScenario {
    var name: String
    /// What Herald's rate counts ("deliveries/s", "messages/s").
    var heraldUnit: String
    var herald = BenchHTTPSide()
    var wrk = BenchHTTPSide()
    /// Why the Herald side has no figure (e.g. the server does not support the feature).
    var heraldNote: String?
    /// Extra facts for the notes under the table (requests per batch, …).
    var details: [String] = []

    var ratio: Double? {
        guard let herald = herald.median, let wrk = wrk.median, wrk > 0 else { return nil }
        return herald / wrk
    }
}

struct BenchHTTPReport {
    let json: Bool
    var header = ""
    var scenarios: [BenchHTTPScenario] = []

    func progress(_ line: String) {
        if !json { Terminal.err("  \(line)") }
    }

    func note(_ line: String) {
        if !json { Terminal.out("# \(line)") }
    }

    func printHeader() {
        if !json { Terminal.out(header) }
    }

    /// "12.3 k (11.9–12.8 k, ±4 %)" style cells.
    private static func cell(_ side: BenchHTTPSide) -> String {
        guard let median = side.median, let low = side.sorted.first, let high = side.sorted.last else { return "—" }
        let spread = side.spread.map { String(format: ", spread %.0f %%", $0 * 100) } ?? ""
        return String(format: "%.1f k (%.1f–%.1f k%@)", median / 1000, low / 1000, high / 1000, spread)
    }

    func finish() {
        if json { return printJSON() }
        Terminal.out("")
        Terminal.out("| scenario | Herald | wrk (requests/s) | Herald / wrk |")
        Terminal.out("| --- | --- | --- | --- |")
        for scenario in scenarios {
            let herald = scenario.heraldNote.map { "— (\($0))" } ?? "\(Self.cell(scenario.herald)) \(scenario.heraldUnit)"
            let ratio = scenario.ratio.map { String(format: "**%.2f**", $0) } ?? "—"
            Terminal.out("| \(scenario.name) | \(herald) | \(Self.cell(scenario.wrk)) | \(ratio) |")
        }
        for scenario in scenarios {
            for detail in scenario.details { Terminal.out("# \(scenario.name): \(detail)") }
        }
    }

    private func printJSON() {
        func side(_ side: BenchHTTPSide) -> [String: Any] {
            var entry: [String: Any] = ["rates": side.rates]
            if let median = side.median { entry["median"] = median }
            if let spread = side.spread { entry["spread"] = spread }
            return entry
        }
        let document: [String: Any] = [
            "header": header,
            "scenarios": scenarios.map { scenario -> [String: Any] in
                var entry: [String: Any] = [
                    "scenario": scenario.name, "heraldUnit": scenario.heraldUnit,
                    "herald": side(scenario.herald), "wrk": side(scenario.wrk), "details": scenario.details,
                ]
                if let ratio = scenario.ratio { entry["ratio"] = ratio }
                if let note = scenario.heraldNote { entry["heraldNote"] = note }
                return entry
            },
        ]
        if let data = try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]) {
            Terminal.out(String(decoding: data, as: UTF8.self))
        }
    }
}
