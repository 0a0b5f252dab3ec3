import ArgumentParser
import Foundation

/// `herald bench load`: throughput against a running server, measured like natsbench (see
/// `LoadGenerator.swift`); `--latency` measures publish→deliver latency at a fixed rate instead.
struct BenchLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load-generate against a running server: deliveries/s (natsbench's method) or latency percentiles.")

    @OptionGroup var connection: BenchServerArguments

    @Option(name: .customShort("p"), help: "Publisher connections.")
    var publishers: Int = 1

    @Option(name: .customShort("s"), help: "Subscriber connections.")
    var subscribers: Int = 1

    @Option(name: .customShort("n"), help: "Messages per publisher.")
    var count: Int = 1_000_000

    @Option(help: "Message body size in bytes.")
    var size: Int = 128

    @Option(help: "Topic.")
    var topic: String = "bench"

    @Flag(help: "Scenario (b): each subscriber has a different filter policy selecting 10% of the messages.")
    var filtered = false

    @Flag(help: "Measure publish→deliver latency at --rate messages/s for --seconds instead of throughput.")
    var latency = false

    @Option(help: "Latency mode: messages per second.")
    var rate: Int = 20_000

    @Option(help: "Latency mode: duration in seconds.")
    var seconds: Int = 5

    @Option(help: ArgumentHelp(
        "Latency mode: also write every message's send stamp and arrival (ns, monotonic clock) to this file.",
        discussion: "One line per message: subscriber index, send ns, arrival ns. The clock is the one `perf record -k CLOCK_MONOTONIC` uses, so slow messages can be lined up with a scheduler trace."))
    var latencyTrace: String?

    func validate() throws {
        guard publishers >= 1, subscribers >= 1, count >= 1, size >= 8, rate >= 1, seconds >= 1 else {
            throw ValidationError("-p, -s, -n, --rate and --seconds must be at least 1; --size at least 8")
        }
        if latencyTrace != nil && !latency {
            throw ValidationError("--latency-trace needs --latency")
        }
    }

    func run() throws {
        let target = try connection.target()
        if latency {
            let result = try LatencyRun(target: target, topic: topic, size: size, rate: rate, seconds: seconds, subscribers: subscribers, traceFile: latencyTrace).run()
            Terminal.out(result)
            return
        }
        let scenario = LoadScenario(publishers: publishers, subscribers: subscribers, messagesPerPublisher: count, size: size, topic: topic, filtered: filtered)
        let result = try LoadRun(scenario: scenario, options: target).run()
        let label = filtered ? "filtered(10%)" : "all"
        Terminal.out(String(
            format: "herald-bench tls pubs=%d subs=%d n=%d size=%d %@: %.0f deliveries/s, %.0f publishes/s (all confirmed), %.1f MB/s delivered, %.3f s",
            publishers, subscribers, count, size, label, Double(result.deliveries) / result.seconds,
            Double(result.publishes) / result.seconds, Double(result.deliveries * size) / result.seconds / 1e6, result.seconds))
        if !result.errors.isEmpty {
            for error in result.errors.prefix(10) { Terminal.err("herald-bench: \(error)") }
            throw ExitCode(1)
        }
    }
}
