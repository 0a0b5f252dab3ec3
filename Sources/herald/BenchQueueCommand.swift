import ArgumentParser
import Dispatch
import Foundation
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldServer
import Synchronization

/// `herald bench queue`: the durable-queue benchmark (issue 8), measured the way
/// `shared/bench/run-durable.sh` measures its peers. For each `--fsync` mode it starts an
/// in-process `Server` with a fresh data directory on disk and, over TLS on loopback with
/// `HeraldClient` (async `publish(…completion:)` and `queueRequest(…completion:)` for pipelining,
/// blocking receive/delete on two threads per consumer), measures:
///  1. confirmed publishes/s into one queue (topic → one raw `sqs` subscription) at 1×16, 10×16
///     and 1×`--large-window` publishes in flight;
///  2. the same into ten filtered queues (every policy matches), also as a ratio to (1);
///  3. consumed+acked/s: ReceiveMessage(10) + DeleteMessageBatch(10) by 1 and 10 consumers;
///  4. SendMessageBatch(10) confirmed sends/s, one client with 16 batches in flight.
/// Then, once: a journal of `--recovery-bytes` written with fsync never, the restart's recovery
/// time, and the resident memory each stored message costs. Each figure: a calibration run sizes
/// N to about `--seconds`, then `--runs` runs; median, range and the journal's fdatasyncs/s.
struct BenchQueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Durable-queue benchmark: confirmed publishes/s, consumed+acked/s, recovery time and index memory, per fsync mode.")

    @Option(help: "Comma-separated fsync modes: always, interval, never.")
    var fsync: String = "always,interval"

    @Option(help: "Runs per figure.")
    var runs: Int = 3

    @Option(help: "Target seconds per run (a calibration run sizes N).")
    var seconds: Double = 3

    @Option(help: "Message body size in bytes.")
    var size: Int = 128

    @Option(help: "Publishes in flight for the large-window figure.")
    var largeWindow: Int = 10_000

    @Option(help: "Journal size for the recovery figure: bytes, or with a K/M/G suffix (MiB units); 0 skips it.")
    var recoveryBytes: String = "1G"

    @Option(help: "At least this many messages for the index-memory figure (loaded with the recovery journal).")
    var indexMessages: Int = 1_000_000

    @Option(help: "Parent directory of the data directories (default: the system temp dir; tmpfs is refused).")
    var dataDir: String?

    @Option(help: "Folder with the development certificates (default: found like `herald serve` does).")
    var certs: String?

    @Flag(help: "Machine-readable output: one JSON document at the end.")
    var json = false

    @Flag(help: "Smoke run: one run per figure, small N, 4 MiB recovery journal.")
    var quick = false

    @Option(help: "Comma-separated figures to measure: publish, fanout, consume, batch, recovery (default: all).")
    var only: String = "publish,fanout,consume,batch,recovery"

    func validate() throws {
        guard runs >= 1, seconds > 0, size >= 1, largeWindow >= 1, indexMessages >= 0 else {
            throw ValidationError("--runs, --size and --large-window must be at least 1, --seconds above 0")
        }
        _ = try modes()
        _ = try BenchSize.parse(recoveryBytes)
        _ = try figures()
    }

    private func figures() throws -> Set<String> {
        let names = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let known: Set<String> = ["publish", "fanout", "consume", "batch", "recovery"]
        guard names.isSubset(of: known), !names.isEmpty else {
            throw ValidationError("--only: name some of \(known.sorted().joined(separator: ", "))")
        }
        return names
    }

    func run() throws {
        let parent = dataDir ?? NSTemporaryDirectory()
        try BenchDisk.refuseMemoryFilesystem(parent)
        let certsDirectory = try certs ?? HeraldConfig.locateDevCertificates(
            currentDirectory: FileManager.default.currentDirectoryPath, executablePath: CommandLine.arguments.first)
        let plan = QueueBenchPlan(
            runs: quick ? 1 : runs, seconds: quick ? 0.3 : seconds, size: size, largeWindow: largeWindow,
            fixedN: quick ? 2_000 : nil, certs: certsDirectory, parent: parent, report: QueueBenchReport(json: json),
            figures: try figures())
        plan.report.header(plan, filesystem: BenchDisk.filesystemName(parent))
        for mode in try modes() where !plan.figures.isDisjoint(with: ["publish", "fanout", "consume", "batch"]) {
            try QueueBenchSession(plan: plan, mode: mode).measureAll()
        }
        let bytes = quick ? 4 << 20 : try BenchSize.parse(recoveryBytes)
        if bytes > 0, plan.figures.contains("recovery") {
            try RecoveryBench(plan: plan, journalBytes: bytes, minimumMessages: quick ? 10_000 : indexMessages).measure()
        }
        plan.report.finish()
    }

    private func modes() throws -> [BenchFsyncMode] {
        try fsync.split(separator: ",").map { name in
            guard let mode = BenchFsyncMode(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--fsync: \(name) is not one of always, interval, never")
            }
            return mode
        }
    }
}

enum BenchFsyncMode: String, Sendable {
    case always, interval, never

    var setting: HeraldConfig.FsyncSetting {
        switch self {
        case .always: return .always
        case .interval: return .interval(HeraldConfig.FsyncSetting.defaultInterval)
        case .never: return .never
        }
    }
}

/// What every figure shares.
struct QueueBenchPlan: Sendable {
    var runs: Int
    var seconds: Double
    var size: Int
    var largeWindow: Int
    /// --quick: every run uses this N, no calibration.
    var fixedN: Int?
    var certs: String
    var parent: String
    var report: QueueBenchReport
    /// The figures `--only` names.
    var figures: Set<String>

    var caFile: String { certs + "/dev-ca.pem" }
    var body: [UInt8] { [UInt8](repeating: UInt8(ascii: "x"), count: size) }
}

/// One timed run: how many operations it completed, in how long, and the fdatasyncs meanwhile.
struct BenchRun: Sendable {
    var operations: Int
    var seconds: Double
    var fdatasyncs: Int?
    var rate: Double { Double(operations) / seconds }
}

// MARK: - The server and its clients

/// An in-process server on 127.0.0.1:<ephemeral> over a fresh data directory, and the clients
/// the figures share (connected once: the figures time traffic, not handshakes).
final class BenchQueueServer: Sendable {
    let server: Server
    let directory: String
    let port: Int
    /// The server's log lines (a class, so the log closure can hold it).
    let log = BenchLog()

    init(plan: QueueBenchPlan, fsync: HeraldConfig.FsyncSetting, directory: String) throws {
        self.directory = directory
        var config = HeraldConfig.defaults(certsDirectory: plan.certs, listen: ListenAddress(host: "127.0.0.1", port: 0))
        config.dataDir = directory
        config.durability.fsync = fsync
        let log = self.log
        server = Server(config: config, log: { line in log.lines.withLock { $0.append(line) } })
        do {
            try server.start()
        } catch {
            throw BenchError("cannot start the server: \(error.message)")
        }
        guard let address = server.listenAddresses.first else { throw BenchError("the server opened no listener") }
        port = address.port
    }

    func client(_ plan: QueueBenchPlan, name: String) throws -> HeraldClient {
        do {
            return try HeraldClient.connect(ClientOptions(host: "127.0.0.1", port: port, caFile: plan.caFile, clientName: name))
        } catch {
            throw BenchError("connect: \(error)")
        }
    }

    var fdatasyncs: Int? { server.storeStatistics?.fdatasyncs }

    /// Closes the listener and the journal (clients must be closed first).
    func shutdown() {
        server.stop()
        server.closeStore()
    }
}

final class BenchLog: Sendable {
    let lines = Mutex<[String]>([])
}

/// Times `body` and counts the journal's fdatasyncs over it.
func timed(_ server: BenchQueueServer, operations: Int, _ body: () throws -> Void) rethrows -> BenchRun {
    let syncs = server.fdatasyncs
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let after = server.fdatasyncs
    return BenchRun(operations: operations, seconds: seconds, fdatasyncs: syncs.flatMap { before in after.map { $0 - before } })
}

// MARK: - Pipelined publishers

/// Publishes `total` messages on one client keeping `window` unconfirmed: each confirmation (on
/// the client's connection queue) sends the next publish. Counts failures instead of stopping.
final class PipelinedPublisher: Sendable {
    private let client: HeraldClient
    private let topic: String
    private let attributes: MessageAttributes
    private let body: [UInt8]
    private let total: Int
    private let window: Int
    private let sent = Atomic<Int>(0)
    private let confirmed = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
    private let done: DispatchGroup

    init(client: HeraldClient, topic: String, attributes: MessageAttributes, body: [UInt8], total: Int, window: Int, done: DispatchGroup) {
        self.client = client
        self.topic = topic
        self.attributes = attributes
        self.body = body
        self.total = total
        self.window = window
        self.done = done
        done.enter()
    }

    func start() {
        if total == 0 { return done.leave() }
        for _ in 0..<min(window, total) { sendNext() }
    }

    private func sendNext() {
        guard sent.add(1, ordering: .relaxed).oldValue < total else { return }
        client.publish(topic: topic, attributes: attributes, body: body) { [self] result in
            if case .failure(let error) = result { failures.withLock { if $0.count < 5 { $0.append("\(error)") } } }
            if confirmed.add(1, ordering: .relaxed).newValue == total { done.leave() } else { sendNext() }
        }
    }
}

/// Publishes `perPublisher` messages from each client at once and waits for every confirmation.
func publishAll(_ clients: [HeraldClient], topic: String, attributes: MessageAttributes, body: [UInt8], perPublisher: Int, window: Int) throws {
    let done = DispatchGroup()
    let publishers = clients.map {
        PipelinedPublisher(client: $0, topic: topic, attributes: attributes, body: body, total: perPublisher, window: window, done: done)
    }
    for publisher in publishers { publisher.start() }
    guard done.wait(timeout: .now() + .seconds(600)) == .success else { throw BenchError("publishes not all confirmed within 600 s") }
    if let failure = publishers.lazy.compactMap({ $0.failures.withLock { $0.first } }).first {
        throw BenchError("publish failed: \(failure)")
    }
}

// MARK: - Disk and sizes

enum BenchDisk {
    /// tmpfs and ramfs would measure memory, not a disk (run-durable.sh refuses them too).
    static func refuseMemoryFilesystem(_ path: String) throws {
        let type = filesystemName(path)
        if type == "tmpfs" || type == "ramfs" {
            throw BenchError("\(path) is on \(type): pass --data-dir a directory on a real disk")
        }
    }

    /// The type of the filesystem holding `path`: the /proc/self/mounts entry with the longest
    /// mount point that contains it (statfs(2)'s header is not in Swift's Glibc module).
    static func filesystemName(_ path: String) -> String {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return "unknown" }
        var best: (point: String, type: String)?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 2 else { continue }
            let point = String(fields[1]).replacingOccurrences(of: "\\040", with: " ")
            let inside = point == "/" || resolved == point || resolved.hasPrefix(point + "/")
            if inside && point.count >= (best?.point.count ?? -1) { best = (point, String(fields[2])) }
        }
        return best?.type ?? "unknown"
    }

    /// A fresh directory under `parent`.
    static func freshDirectory(_ parent: String, _ label: String) throws -> String {
        let path = parent + "/herald-bench-\(label)-\(getpid())-\(DispatchTime.now().uptimeNanoseconds % 1_000_000_000)"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw BenchError("cannot create \(path): \(error.localizedDescription)")
        }
        return path
    }

    /// Bytes in the files under `path`.
    static func size(_ path: String) -> Int64 {
        guard let files = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        for case let file as String in files {
            if let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + file),
               let size = attributes[.size] as? NSNumber, (attributes[.type] as? FileAttributeType) == .typeRegular {
                total += size.int64Value
            }
        }
        return total
    }

    /// This process's resident set in bytes (/proc/self/statm's second field × the page size).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }
}

enum BenchSize {
    /// "268435456", "256M", "1G", "512K" (binary units; "MiB"/"GiB" accepted too).
    static func parse(_ text: String) throws -> Int {
        var digits = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where digits.hasSuffix(suffix) { digits.removeLast(suffix.count) }
        var multiplier = 1
        if let last = digits.last, let shift = ["K": 10, "M": 20, "G": 30][String(last)] {
            multiplier = 1 << shift
            digits.removeLast()
        }
        guard let value = Int(digits), value >= 0, value <= Int.max / multiplier else {
            throw ValidationError("--recovery-bytes: \(text) is not a size (e.g. 268435456, 256M, 1G)")
        }
        return value * multiplier
    }
}

// MARK: - The figures of one fsync mode

/// One server per fsync mode; every run gets fresh queue (and topic) names and purges them after,
/// so runs neither see each other's messages nor grow the index the next one works with.
final class QueueBenchSession {
    let plan: QueueBenchPlan
    let mode: BenchFsyncMode
    private var serial = 0

    init(plan: QueueBenchPlan, mode: BenchFsyncMode) {
        self.plan = plan
        self.mode = mode
    }

    func measureAll() throws {
        let directory = try BenchDisk.freshDirectory(plan.parent, mode.rawValue)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try BenchQueueServer(plan: plan, fsync: mode.setting, directory: directory)
        defer { server.shutdown() }
        let clients = try (0..<10).map { try server.client(plan, name: "bench-\($0)") }
        defer { for client in clients { client.close() } }
        let attributes: MessageAttributes = ["k": .string("v")]
        let body = plan.body

        // 1 and 2: confirmed publishes into one queue, then ten filtered queues.
        var single: [String: Double] = [:]
        let loads = [(1, 16), (10, 16), (1, plan.largeWindow)]
        for (fanOut, label) in [(1, "publish → 1 queue"), (10, "publish → 10 filtered queues")]
            where plan.figures.contains(fanOut == 1 ? "publish" : "fanout") {
            for (publishers, window) in loads where fanOut == 1 || window == 16 {
                let load = "\(publishers) pub × \(window) in flight"
                let figure = try measure(label, load: load, unit: "confirmed publishes/s", start: 4_000 * publishers) { n in
                    let perPublisher = max(1, n / publishers)
                    let (topic, queues) = try self.makeTopic(clients[0], queues: fanOut)
                    defer { for queue in queues { try? clients[0].purgeQueue(name: queue) } }
                    return try timed(server, operations: perPublisher * publishers) {
                        try publishAll(Array(clients.prefix(publishers)), topic: topic, attributes: attributes, body: body,
                                       perPublisher: perPublisher, window: window)
                    }
                }
                if fanOut == 1 {
                    single[load] = figure.median
                    plan.report.add(figure)
                } else {
                    plan.report.add(figure, ratio: single[load].map { figure.median / $0 }, ratioLabel: "vs 1 queue")
                }
            }
        }

        // 3: consumed and acknowledged.
        for consumers in [1, 10] where plan.figures.contains("consume") {
            let figure = try measure("receive(10) + delete batch(10)", load: "\(consumers) consumer(s) × 2 in flight",
                                     unit: "consumed+acked/s", start: 10_000) { n in
                let (topic, queues) = try self.makeTopic(clients[0], queues: 1)
                defer { try? clients[0].purgeQueue(name: queues[0]) }
                try publishAll(clients, topic: topic, attributes: attributes, body: body, perPublisher: max(1, n / 10), window: 1_000)
                let total = max(1, n / 10) * 10
                return try timed(server, operations: total) {
                    try consume(queue: queues[0], clients: Array(clients.prefix(consumers)), total: total)
                }
            }
            plan.report.add(figure)
        }

        // 4: SendMessageBatch straight into a queue.
        guard plan.figures.contains("batch") else { return }
        let figure = try measure("SendMessageBatch(10)", load: "1 client × 16 batches in flight", unit: "confirmed sends/s", start: 10_000) { n in
            let (_, queues) = try self.makeTopic(clients[0], queues: 1)
            defer { try? clients[0].purgeQueue(name: queues[0]) }
            let batches = max(1, n / 10)
            return try timed(server, operations: batches * 10) {
                try sendBatches(clients[0], queue: queues[0], body: body, batches: batches, window: 16)
            }
        }
        plan.report.add(figure)
    }

    /// A calibration run of `start` operations sizes N for `plan.seconds`, then `plan.runs` runs.
    private func measure(_ name: String, load: String, unit: String, start: Int, _ run: (Int) throws -> BenchRun) throws -> QueueFigure {
        var n = plan.fixedN ?? start
        if plan.fixedN == nil {
            let calibration = try run(n)
            n = max(start, Int(calibration.rate * plan.seconds))
        }
        var results: [BenchRun] = []
        for _ in 0..<plan.runs {
            results.append(try run(n))
            plan.report.progress("\(mode.rawValue) \(name), \(load): \(Int(results.last?.rate ?? 0)) \(unit)")
        }
        return QueueFigure(fsync: mode.rawValue, name: name, load: load, unit: unit, runs: results)
    }

    /// A fresh topic with `queues` raw sqs subscriptions; with more than one queue each carries
    /// the policy {"k":["v"]} (every benchmark message has k=v, so each matches).
    private func makeTopic(_ client: HeraldClient, queues count: Int) throws -> (String, [String]) {
        serial += 1
        let topic = "bench-\(mode.rawValue)-\(serial)"
        var queues: [String] = []
        for index in 0..<count {
            let queue = "\(topic)-q\(index)"
            do {
                try client.createQueue(name: queue)
                _ = try client.subscribe(topic: topic, queue: queue, filterPolicy: count > 1 ? #"{"k":["v"]}"# : nil, raw: true)
            } catch {
                throw BenchError("setting up \(queue): \(error)")
            }
            queues.append(queue)
        }
        return (topic, queues)
    }
}

/// Receives (10 at a time) and deletes in batches of what it got, on two threads per client,
/// until `total` messages are deleted.
func consume(queue: String, clients: [HeraldClient], total: Int) throws {
    let deleted = Atomic<Int>(0)
    let failure = Mutex<String?>(nil)
    let group = DispatchGroup()
    for index in 0..<(clients.count * 2) {
        let client = clients[index / 2]
        group.enter()
        Thread {
            defer { group.leave() }
            while deleted.load(ordering: .relaxed) < total && failure.withLock({ $0 == nil }) {
                do {
                    let messages = try client.receive(queue: queue, max: 10, wait: 0, visibility: 300)
                    if messages.isEmpty {
                        usleep(200)
                        continue
                    }
                    let entries = messages.enumerated().map { ReceiptEntry(id: "e\($0.offset)", receiptHandle: $0.element.receiptHandle) }
                    let result = try client.deleteBatch(queue: queue, entries: entries)
                    if let failed = result.failed.first { throw BenchError("delete failed: \(failed)") }
                    deleted.add(result.successful.count, ordering: .relaxed)
                } catch {
                    failure.withLock { $0 = $0 ?? "\(error)" }
                }
            }
        }.start()
    }
    group.wait()
    if let failure = failure.withLock({ $0 }) { throw BenchError("consumer: \(failure)") }
}

/// SendMessageBatch(10) with `window` batches in flight on one client; each answer (on the
/// connection's queue) sends the next batch and hands its body to a serial queue to be checked.
func sendBatches(_ client: HeraldClient, queue: String, body: [UInt8], batches: Int, window: Int) throws {
    let text = String(decoding: body, as: UTF8.self)
    let request = QueueRequest.sendBatch(queue: queue, entries: (0..<10).map { OutgoingBatchEntry(id: "m\($0)", message: OutgoingMessage(body: text)) })
    let json = request.json
    let sent = Atomic<Int>(0)
    let answered = Atomic<Int>(0)
    let failure = Mutex<String?>(nil)
    let checker = DispatchQueue(label: "herald.bench.batch-check")
    let done = DispatchSemaphore(value: 0)
    @Sendable func next() {
        guard sent.add(1, ordering: .relaxed).oldValue < batches else { return }
        client.queueRequest(action: request.action, json: json) { result in
            checker.async {
                switch result {
                case .success(let bytes):
                    do {
                        let reply = try QueueReply.parse(bytes, action: request.action)
                        if case .array(let failed)? = reply["Failed"], !failed.isEmpty { failure.withLock { $0 = $0 ?? "an entry failed: \(failed[0].text)" } }
                    } catch {
                        failure.withLock { $0 = $0 ?? "\(error)" }
                    }
                case .failure(let error):
                    failure.withLock { $0 = $0 ?? "\(error)" }
                }
            }
            if answered.add(1, ordering: .relaxed).newValue == batches { done.signal() } else { next() }
        }
    }
    for _ in 0..<min(window, batches) { next() }
    guard done.wait(timeout: .now() + .seconds(600)) == .success else { throw BenchError("SendMessageBatch answers missing after 600 s") }
    checker.sync {}
    if let failure = failure.withLock({ $0 }) { throw BenchError("SendMessageBatch: \(failure)") }
}

// MARK: - Recovery and index memory

/// Writes a journal of at least `journalBytes` (and `minimumMessages` messages in one queue) with
/// fsync never, measuring the resident memory the stored messages add; then restarts the server
/// on it and times the recovery.
struct RecoveryBench {
    let plan: QueueBenchPlan
    let journalBytes: Int
    let minimumMessages: Int

    func measure() throws {
        let directory = try BenchDisk.freshDirectory(plan.parent, "recovery")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try BenchQueueServer(plan: plan, fsync: .never, directory: directory)
        let clients = try (0..<10).map { try writer.client(plan, name: "fill-\($0)") }
        do {
            try clients[0].createQueue(name: "r0")
            _ = try clients[0].subscribe(topic: "recovery", queue: "r0", raw: true)
        } catch {
            throw BenchError("setting up r0: \(error)")
        }
        let chunk = plan.fixedN == nil ? 20_000 : 1_000
        // Warm up (the first messages allocate the index's first blocks and the clients' buffers).
        try publishAll(clients, topic: "recovery", attributes: [:], body: plan.body, perPublisher: chunk / 10, window: 1_000)
        let residentBefore = BenchDisk.residentBytes()
        var stored = chunk
        let fillStart = DispatchTime.now().uptimeNanoseconds
        while Int(writer.server.storeStatistics?.bytesWritten ?? 0) < journalBytes || stored < minimumMessages {
            try publishAll(clients, topic: "recovery", attributes: [:], body: plan.body, perPublisher: chunk, window: 1_000)
            stored += chunk * 10
        }
        let fillSeconds = Double(DispatchTime.now().uptimeNanoseconds - fillStart) / 1e9
        let residentAfter = BenchDisk.residentBytes()
        for client in clients { client.close() }
        writer.shutdown()
        let journal = BenchDisk.size(directory + "/journal")

        let residentBeforeStart = BenchDisk.residentBytes()
        let start = DispatchTime.now().uptimeNanoseconds
        let reader = try BenchQueueServer(plan: plan, fsync: .never, directory: directory)
        let startSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let residentAfterStart = BenchDisk.residentBytes()
        defer { reader.shutdown() }
        let client = try reader.client(plan, name: "check")
        defer { client.close() }
        let attributes: [String: String]
        do {
            attributes = try client.queueAttributes(name: "r0")
        } catch {
            throw BenchError("r0 after restart: \(error)")
        }
        let recovered = attributes["ApproximateNumberOfMessages"].flatMap(Int.init) ?? -1
        let line = reader.log.lines.withLock { $0.first { $0.contains("queues recovered in") } } ?? "(no recovery line)"
        plan.report.recovery(RecoveryFigure(
            journalBytes: journal, storedMessages: stored, fillSeconds: fillSeconds, recoveredMessages: recovered, startSeconds: startSeconds,
            logLine: line, indexBytesPerMessage: Double(residentAfter - residentBefore) / Double(stored - chunk),
            recoveredBytesPerMessage: Double(residentAfterStart - residentBeforeStart) / Double(max(1, recovered))))
    }
}

// MARK: - Results

struct QueueFigure: Sendable {
    var fsync: String
    var name: String
    var load: String
    var unit: String
    var runs: [BenchRun]

    var rates: [Double] { runs.map(\.rate).sorted() }
    var median: Double { rates[rates.count / 2] }
    /// fdatasyncs per second over all runs.
    var syncRate: Double? {
        let syncs = runs.compactMap(\.fdatasyncs)
        guard syncs.count == runs.count else { return nil }
        return Double(syncs.reduce(0, +)) / runs.map(\.seconds).reduce(0, +)
    }
}

struct RecoveryFigure: Sendable {
    var journalBytes: Int64
    var storedMessages: Int
    var fillSeconds: Double
    var recoveredMessages: Int
    var startSeconds: Double
    var logLine: String
    var indexBytesPerMessage: Double
    var recoveredBytesPerMessage: Double
}

/// Prints each figure as it is measured (text mode) or collects them for one JSON document.
final class QueueBenchReport: Sendable {
    let json: Bool
    private let figures = Mutex<[(figure: QueueFigure, ratio: Double?)]>([])
    private let recoveryFigure = Mutex<RecoveryFigure?>(nil)
    private let headerLine = Mutex("")

    init(json: Bool) { self.json = json }

    func header(_ plan: QueueBenchPlan, filesystem: String) {
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        let text = "herald-bench queue: \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(load), data under \(plan.parent) (\(filesystem)), "
            + "\(plan.size)-byte messages over TLS on loopback (HeraldClient), \(plan.runs) run(s) per figure, target \(plan.seconds) s"
        headerLine.withLock { $0 = text }
        if !json { Terminal.out(text) }
    }

    func progress(_ line: String) {
        if !json { Terminal.err("  run: \(line)") }
    }

    func add(_ figure: QueueFigure, ratio: Double? = nil, ratioLabel: String = "") {
        figures.withLock { $0.append((figure, ratio)) }
        guard !json else { return }
        let rates = figure.rates
        var line = "herald-bench queue fsync=\(figure.fsync) \(figure.name), \(figure.load): "
            + String(format: "median %.0f %@ (%.0f–%.0f), %d runs of %d", figure.median, figure.unit, rates.first ?? 0, rates.last ?? 0,
                     figure.runs.count, figure.runs.first?.operations ?? 0)
        if let syncs = figure.syncRate { line += String(format: ", %.0f fdatasync/s", syncs) }
        if let ratio { line += String(format: ", %.2f× %@", ratio, ratioLabel) }
        Terminal.out(line)
    }

    func recovery(_ figure: RecoveryFigure) {
        recoveryFigure.withLock { $0 = figure }
        guard !json else { return }
        Terminal.out(String(
            format: "herald-bench queue recovery: journal %.1f MiB, %d messages in one queue (written in %.1f s with fsync never); restart %.3f s, %d messages recovered",
            Double(figure.journalBytes) / 1_048_576, figure.storedMessages, figure.fillSeconds, figure.startSeconds, figure.recoveredMessages))
        Terminal.out("herald-bench queue recovery log: \(figure.logLine)")
        Terminal.out(String(
            format: "herald-bench queue index memory: %.0f bytes/message resident while loading (RSS delta / messages), %.0f bytes/message after recovery",
            figure.indexBytesPerMessage, figure.recoveredBytesPerMessage))
    }

    func finish() {
        guard json else { return }
        var document: [String: Any] = ["header": headerLine.withLock { $0 }]
        document["figures"] = figures.withLock { list in
            list.map { item -> [String: Any] in
                let figure = item.figure, rates = figure.rates
                var entry: [String: Any] = [
                    "fsync": figure.fsync, "figure": figure.name, "load": figure.load, "unit": figure.unit,
                    "median": figure.median, "min": rates.first ?? 0, "max": rates.last ?? 0, "rates": rates,
                    "n": figure.runs.first?.operations ?? 0, "seconds": figure.runs.map(\.seconds),
                ]
                if let syncs = figure.syncRate { entry["fdatasyncsPerSecond"] = syncs }
                if let ratio = item.ratio { entry["ratio"] = ratio }
                return entry
            }
        }
        if let figure = recoveryFigure.withLock({ $0 }) {
            document["recovery"] = [
                "journalBytes": figure.journalBytes, "storedMessages": figure.storedMessages, "fillSeconds": figure.fillSeconds,
                "recoveredMessages": figure.recoveredMessages, "startSeconds": figure.startSeconds, "logLine": figure.logLine,
                "indexBytesPerMessage": figure.indexBytesPerMessage, "recoveredIndexBytesPerMessage": figure.recoveredBytesPerMessage,
            ] as [String: Any]
        }
        if let data = try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]) {
            Terminal.out(String(decoding: data, as: UTF8.self))
        }
    }
}
