import ArgumentParser
import Dispatch
import Foundation
import HeraldClient
import HeraldConfig
import HeraldNet

/// `herald bench http`: HTTP delivery side by side with wrk (issue 9, "Performance"). One local
/// keep-alive sink (`BenchHTTPSink`, answers 200 to every POST and counts) serves both sides:
///  - wrk: `wrk -t 1 -c N -d D` POSTing a `--size`-byte body, its Requests/sec;
///  - Herald: a `herald serve` child (`BenchServeChild`) whose topic has a raw HTTP(S) subscription
///    to the sink with `httpDelivery.maxConnectionsPerEndpoint: N`; `--messages` confirmed
///    publishes through HeraldClient, timed at the sink from the first delivery to the last;
///  - the managed consumer: a queue pre-filled with `--messages` (the child then restarts with a
///    consumer of batch 10 and concurrency N on it), the drain timed at the sink in messages/s.
/// Each scenario runs wrk and Herald alternately `--repeat` times; the table gives medians, ranges,
/// the spread and the ratio of the medians. A config the server refuses (a feature it lacks) leaves
/// the Herald side empty with the server's reason.
struct BenchHTTPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "HTTP delivery benchmark: Herald's deliveries/s to a local sink next to wrk's requests/s against the same sink.")

    @Option(help: "Connections: wrk's -c, and Herald's httpDelivery.maxConnectionsPerEndpoint and the consumer's maxConcurrency.")
    var connections: Int = 16

    @Option(help: "Seconds per wrk run.")
    var duration: Int = 5

    @Option(help: "Messages per Herald run (published, or pre-filled into the consumer's queue).")
    var messages: Int = 50_000

    @Option(help: "Runs per side and scenario (wrk and Herald alternate).")
    var `repeat`: Int = 3

    @Option(help: "Message / request body size in bytes.")
    var size: Int = 128

    @Option(help: "Comma-separated scenarios: http, https, consumer (default: all).")
    var only: String = "http,https,consumer"

    @Option(help: "The child server's durability.fsync: always, interval or never.")
    var fsync: String = "always"

    @Option(help: "Parent directory of the bench's config files and data directories (default: the system temp dir).")
    var dataDir: String?

    @Option(help: "Folder with the development certificates (default: found like `herald serve` does).")
    var certs: String?

    @Flag(help: "Machine-readable output: one JSON document at the end.")
    var json = false

    func validate() throws {
        guard connections >= 1, connections <= 10_000 else { throw ValidationError("--connections must be 1…10000") }
        guard duration >= 1, messages >= 2, `repeat` >= 1, size >= 1, size <= 65_536 else {
            throw ValidationError("--duration and --repeat must be at least 1, --messages at least 2, --size 1…65536")
        }
        guard ["always", "interval", "never"].contains(fsync) else { throw ValidationError("--fsync must be always, interval or never") }
        _ = try scenarios()
    }

    private func scenarios() throws -> [String] {
        let names = only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let known = ["http", "https", "consumer"]
        guard !names.isEmpty, names.allSatisfy(known.contains) else {
            throw ValidationError("--only: name some of \(known.joined(separator: ", "))")
        }
        return known.filter(names.contains)
    }

    func run() throws {
        let certificates = try BenchHTTPCertificates.locate(certs)
        let work = try BenchDisk.freshDirectory(dataDir ?? NSTemporaryDirectory(), "http")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let watchers = BenchChildren.stopOnInterrupt { try? FileManager.default.removeItem(atPath: work) }
        defer { watchers.forEach { $0.cancel() } }
        var report = BenchHTTPReport(json: json)
        let wrk = try BenchWrk.prepare(bodySize: size, directory: work) { report.note($0) }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        report.header = "herald-bench http: \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(load), \(size)-byte bodies, "
            + "\(connections) connections, wrk \(duration) s per run, \(messages) messages per Herald run, \(`repeat`) runs per side, "
            + "fsync \(fsync), data under \(work) (\(BenchDisk.filesystemName(work)))"
        report.printHeader()
        let session = BenchHTTPSession(options: self, certificates: certificates, work: work, wrk: wrk)
        var plainWrk: BenchHTTPSide?
        for scenario in try scenarios() {
            switch scenario {
            case "http":
                let result = try session.subscription(tls: false, report: report)
                plainWrk = result.wrk
                report.scenarios.append(result)
            case "https":
                report.scenarios.append(try session.subscription(tls: true, report: report))
            default:
                report.scenarios.append(try session.consumer(wrk: plainWrk, report: report))
            }
        }
        report.finish()
    }
}

/// The development certificates: the sink's HTTPS identity and the CA the child trusts.
struct BenchHTTPCertificates {
    let directory: String

    static func locate(_ given: String?) throws -> BenchHTTPCertificates {
        if let given { return BenchHTTPCertificates(directory: given) }
        do throws(ConfigError) {
            return BenchHTTPCertificates(directory: try HeraldConfig.locateDevCertificates(
                currentDirectory: FileManager.default.currentDirectoryPath, executablePath: CommandLine.arguments.first))
        } catch {
            throw BenchError(error.description)
        }
    }

    var ca: String { directory + "/dev-ca.pem" }
    var serverCertificate: String { directory + "/" + HeraldConfig.DevCertificates.certificate }
    var serverKey: String { directory + "/" + HeraldConfig.DevCertificates.privateKey }

    func serverContext() throws -> TLSContext {
        do {
            return try TLSContext.server(certificateChainFile: serverCertificate, privateKeyFile: serverKey)
        } catch {
            throw BenchError("the sink's TLS context (\(serverCertificate)): \(error)")
        }
    }
}

/// The runs of one bench invocation.
struct BenchHTTPSession {
    let options: BenchHTTPCommand
    let certificates: BenchHTTPCertificates
    let work: String
    let wrk: BenchWrk

    private var body: [UInt8] { [UInt8](repeating: UInt8(ascii: "x"), count: options.size) }

    /// HTTP or HTTPS subscription: wrk and Herald alternately against one sink.
    func subscription(tls: Bool, report: BenchHTTPReport) throws -> BenchHTTPScenario {
        let sink = try BenchHTTPSink(tls: tls ? certificates.serverContext() : nil)
        defer { sink.close() }
        let url = "\(sink.scheme)://127.0.0.1:\(sink.port)/"
        var scenario = BenchHTTPScenario(name: "\(sink.scheme.uppercased()) subscription, \(options.connections) connections", heraldUnit: "deliveries/s")
        let child: BenchServeChild?
        do {
            child = try startChild(config: subscriptionConfig(endpoint: url, tls: tls), data: "sub-\(sink.scheme)")
        } catch let failure as BenchServeChild.StartFailure {
            child = nil
            scenario.heraldNote = "not supported by this server: " + Self.firstProblem(failure.description)
            report.note("\(scenario.name): Herald side skipped, not supported by this server:\n\(failure.description)")
        }
        defer { child?.stop() }
        var client = try child.map { try connect($0) }
        defer { client?.close() }

        // Warm-up, untimed: TLS sessions, pools, the server's first allocations. A server that takes
        // the subscription but delivers nothing (the feature half there) is a note, not a failure.
        _ = try wrk.run(url: url, connections: options.connections, seconds: 1)
        let acceptedBefore = sink.server.acceptedConnections
        if let warming = client {
            do {
                _ = try publishAndTime(warming, sink: sink, count: min(options.messages, 2_000), stall: .seconds(10))
            } catch {
                scenario.heraldNote = "no deliveries from this server: \(error)"
                report.note("\(scenario.name): Herald side skipped: \(error)\n\(child?.log.suffix(800) ?? "")")
                client = nil
            }
        }

        var serverCPU: [Double] = []
        // Herald's connections are counted apart from wrk's (N + 1: wrk test-connects first), so
        // its pool size can be checked against N.
        var heraldConnections = sink.server.acceptedConnections - acceptedBefore
        for run in 1...options.repeat {
            sink.reset()
            let wrkRate = try wrk.run(url: url, connections: options.connections, seconds: options.duration)
            scenario.wrk.rates.append(wrkRate)
            report.progress(String(format: "%@ run %d: wrk %.0f requests/s (the sink counted %d)", scenario.name, run, wrkRate, sink.snapshot.requests))
            guard let client, let child else { continue }
            let acceptedBeforeHerald = sink.server.acceptedConnections
            let cpuBefore = child.cpuSeconds
            let counts = try publishAndTime(client, sink: sink, count: options.messages)
            scenario.herald.rates.append(counts.rate)
            if let before = cpuBefore, let after = child.cpuSeconds { serverCPU.append((after - before) / Double(counts.messages) * 1e6) }
            heraldConnections += sink.server.acceptedConnections - acceptedBeforeHerald
            report.progress(String(format: "%@ run %d: Herald %.0f deliveries/s (%d requests)", scenario.name, run, counts.rate, counts.requests))
        }
        if client != nil {
            scenario.details.append("Herald opened \(heraldConnections) connections to the sink over all its runs (maxConnectionsPerEndpoint \(options.connections))")
        }
        if let cpu = BenchHTTPSide(rates: serverCPU).median {
            scenario.details.append(String(format: "herald serve used %.0f µs of CPU per delivery (median of the runs; publish, journal and POST included)", cpu))
        }
        return scenario
    }

    /// The managed consumer: fill a queue with the consumer absent, restart with it, time the drain.
    func consumer(wrk reference: BenchHTTPSide?, report: BenchHTTPReport) throws -> BenchHTTPScenario {
        let sink = try BenchHTTPSink(tls: nil)
        defer { sink.close() }
        let url = "http://127.0.0.1:\(sink.port)/"
        var scenario = BenchHTTPScenario(
            name: "managed consumer, batch 10, maxConcurrency \(options.connections)", heraldUnit: "messages/s")
        scenario.details.append("Herald counts messages (Records) per second; wrk's column is requests/s of single POSTs"
            + (reference == nil ? ", measured here" : ", from the HTTP subscription scenario"))
        var wrkSide = reference ?? BenchHTTPSide()
        var serverCPU: [Double] = []
        for run in 1...options.repeat {
            if reference == nil {
                let rate = try wrk.run(url: url, connections: options.connections, seconds: options.duration)
                wrkSide.rates.append(rate)
                report.progress(String(format: "%@ run %d: wrk %.0f requests/s", scenario.name, run, rate))
            }
            let data = try BenchDisk.freshDirectory(work, "consumer-data")
            defer { try? FileManager.default.removeItem(atPath: data) }
            try fillQueue(data: data)
            sink.reset()
            let child: BenchServeChild
            do {
                child = try BenchServeChild(config: consumerConfig(endpoint: url), directory: work, dataDirectory: data)
            } catch let failure as BenchServeChild.StartFailure {
                scenario.heraldNote = "not supported by this server: " + Self.firstProblem(failure.description)
                report.note("\(scenario.name): Herald side skipped, not supported by this server:\n\(failure.description)")
                break
            }
            defer { child.stop() }
            let counts: BenchHTTPSink.Counts
            do {
                counts = try sink.waitForMessages(options.messages, stall: run == 1 ? .seconds(10) : .seconds(30))
                // From the child's start, restart and recovery included (an upper bound).
                if let cpu = child.cpuSeconds { serverCPU.append(cpu / Double(counts.messages) * 1e6) }
            } catch {
                scenario.heraldNote = "no deliveries from this server: \(error)"
                report.note("\(scenario.name): Herald side skipped: \(error)\n\(child.log.suffix(800))")
                break
            }
            scenario.herald.rates.append(counts.rate)
            report.progress(String(format: "%@ run %d: Herald %.0f messages/s in %d requests", scenario.name, run, counts.rate, counts.requests))
            if run == options.repeat {
                scenario.details.append(String(format: "last run: %d messages in %d requests (%.1f per batch)",
                                               counts.messages, counts.requests, Double(counts.messages) / Double(max(1, counts.requests))))
            }
        }
        scenario.wrk = wrkSide
        if let cpu = BenchHTTPSide(rates: serverCPU).median {
            scenario.details.append(String(format: "herald serve used %.0f µs of CPU per message (median; from its start, recovery of the filled queue included)", cpu))
        }
        return scenario
    }

    // MARK: - Plumbing

    /// Publishes `count` messages (1,000 unconfirmed at most) and waits for them all at the sink.
    private func publishAndTime(_ client: HeraldClient, sink: BenchHTTPSink, count: Int, stall: Duration = .seconds(30)) throws -> BenchHTTPSink.Counts {
        sink.reset()
        try publishAll([client], topic: "bench", attributes: [:], body: body, perPublisher: count, window: 1_000)
        return try sink.waitForMessages(count, stall: stall)
    }

    /// A child with the queue only, filled by SendMessageBatch(10), then stopped (its journal
    /// keeps the messages for the consumer's child).
    private func fillQueue(data: String) throws {
        let child = try startChild(config: baseConfig + "queues:\n  - name: bench-q\n", data: nil, dataDirectory: data)
        defer { child.stop() }
        let client = try connect(child)
        defer { client.close() }
        let batches = (options.messages + 9) / 10
        try sendBatches(client, queue: "bench-q", body: body, batches: batches, window: 16)
        let filled = (try? client.queueAttributes(name: "bench-q"))?["ApproximateNumberOfMessages"].flatMap(Int.init) ?? -1
        guard filled >= options.messages else { throw BenchError("bench-q holds \(filled) messages after the fill, expected \(batches * 10)") }
    }

    private func startChild(config: String, data label: String?, dataDirectory: String? = nil) throws -> BenchServeChild {
        let directory = try dataDirectory ?? BenchDisk.freshDirectory(work, label ?? "data")
        return try BenchServeChild(config: config, directory: work, dataDirectory: directory)
    }

    private func connect(_ child: BenchServeChild) throws -> HeraldClient {
        do {
            return try HeraldClient.connect(ClientOptions(host: "127.0.0.1", port: child.port, caFile: certificates.ca, clientName: "bench-http"))
        } catch {
            throw BenchError("connect to the child server on port \(child.port): \(error)")
        }
    }

    /// Listener on an ephemeral port, anonymous clients, the chosen fsync.
    private var baseConfig: String {
        """
        listeners:
          - listen: 127.0.0.1:0
            tls:
              cert: \(certificates.serverCertificate)
              key: \(certificates.serverKey)
        auth:
          anonymous: true
        autoCreateTopics: true
        durability:
          fsync: \(options.fsync)
        limits:
          maxPendingMessagesPerSubscriber: 1000000

        """
    }

    private func subscriptionConfig(endpoint: String, tls: Bool) -> String {
        baseConfig + """
            topics:
              - bench
            subscriptions:
              - name: bench-http
                topic: bench
                protocol: \(tls ? "https" : "http")
                endpoint: \(endpoint)
                rawMessageDelivery: true
            httpDelivery:
              caFile: \(certificates.ca)
              maxConnectionsPerEndpoint: \(options.connections)
              timeout: 15s

            """
    }

    private func consumerConfig(endpoint: String) -> String {
        baseConfig + """
            queues:
              - name: bench-q
            consumers:
              - queue: bench-q
                endpoint: \(endpoint)
                batchSize: 10
                maxConcurrency: \(options.connections)

            """
    }

    /// The first line of a config refusal that names a problem (for the table's cell).
    static func firstProblem(_ text: String) -> String {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let line = lines.first { $0.contains("protocol") || $0.contains("httpDelivery") || $0.contains("consumers") || $0.contains("unknown") }
            ?? lines.dropFirst().first ?? lines.first ?? text
        // Drop the "herald: /path/file.yaml:18: " prefix: the table names the problem, not the file.
        var problem = Substring(line)
        if let range = problem.range(of: ".yaml:") {
            problem = problem[range.upperBound...].drop { $0.isNumber || $0 == ":" || $0 == " " }
        }
        return String(problem.prefix(120))
    }
}
