import ArgumentParser
import Dispatch
import Foundation
import HeraldCore
import HeraldNet
import HeraldWire
import Synchronization

/// `herald bench churn`: subscription churn against a running server (issue 6's subscribe storm).
/// 1. `--subscriptions` filtered subscriptions on one topic, pipelined over as many connections
///    as the per-connection limit needs, all at once: time until the last SUBOK.
/// 2. A topic holding `--resident` filtered subscriptions; for `--seconds`, `--churners`
///    connections pipeline SUB+UNSUB pairs (each SUB and each UNSUB is one operation) while one
///    connection publishes (its messages are matched against every policy) and an unrelated
///    connection sends a PING every 10 ms: operations/s, publishes/s and PING round trips.
struct BenchChurnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "churn",
        abstract: "Subscription churn against a running server: create time, SUB/UNSUB ops/s, PING latency meanwhile.")

    @OptionGroup var connection: BenchServerArguments

    @Option(help: "Phase 1: subscriptions created on one topic.")
    var subscriptions: Int = 100_000

    @Option(help: "Subscriptions one connection may hold (the server's maxSubscriptionsPerConnection).")
    var perConnection: Int = 10_000

    @Option(help: "Phase 2: filtered subscriptions resident on the churned topic.")
    var resident: Int = 10_000

    @Option(help: "Phase 2: churning connections.")
    var churners: Int = 2

    @Option(help: "Phase 2: SUB+UNSUB pairs each churner pipelines at once.")
    var window: Int = 50

    @Option(help: "Phase 2: target SUB+UNSUB operations/s over all churners (0: as fast as they go).")
    var rate: Int = 10_000

    @Option(help: "Phase 2: duration in seconds.")
    var seconds: Int = 5

    func validate() throws {
        guard subscriptions >= 1, perConnection >= 1, resident >= 0, churners >= 1, window >= 1, seconds >= 1, rate >= 0 else {
            throw ValidationError("--subscriptions, --per-connection, --churners, --window and --seconds must be at least 1")
        }
    }

    func run() throws {
        let target = try connection.target()
        let tls = try TLSContext.client(caFile: target.caFile)
        let run = UInt64(DispatchTime.now().uptimeNanoseconds % 1_000_000)
        func connect() throws -> ChurnClient { try ChurnClient(target: target, tls: tls) }

        // Phase 1: the storm.
        let topicA = "churn-a-\(run)"
        let connectionCount = (subscriptions + perConnection - 1) / perConnection
        let creators = try (0..<connectionCount).map { _ in try connect() }
        let creatorFailures = Mutex<[String]>([])
        let storm = try Pinger(client: connect())
        let start = DispatchTime.now().uptimeNanoseconds
        onThreads(connectionCount) { c in
            let first = c * perConnection, end = min(subscriptions, first + perConnection)
            do {
                var frames: [UInt8] = []
                for i in first..<end {
                    ChurnClient.appendSubscribe(sid: UInt64(i - first + 1), topic: topicA, customer: i, to: &frames)
                }
                try creators[c].connection.write(frames)
                try creators[c].expect("SUBOK", count: end - first)
            } catch {
                creatorFailures.withLock { $0.append("\(error)") }
            }
        }
        let created = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let stormPings = try storm.finish()
        if let failure = creatorFailures.withLock({ $0.first }) { throw BenchError("phase 1: \(failure)") }
        Terminal.out(String(format: "herald-bench churn create: %d filtered subscriptions on one topic over %d connections in %.3f s (%.0f SUB/s)",
                            subscriptions, connectionCount, created, Double(subscriptions) / created))
        Terminal.out("herald-bench churn create ping: \(stormPings)")
        for client in creators { client.connection.close() }

        // Phase 2: churn next to resident policies, a publisher and a pinger.
        let topicB = "churn-b-\(run)"
        var residents: [ChurnClient] = []
        var placed = 0
        while placed < resident {
            let client = try connect()
            let count = min(perConnection, resident - placed)
            var frames: [UInt8] = []
            for i in 0..<count { ChurnClient.appendSubscribe(sid: UInt64(i + 1), topic: topicB, customer: placed + i, to: &frames) }
            try client.connection.write(frames)
            try client.expect("SUBOK", count: count)
            residents.append(client)
            placed += count
        }
        let stop = Atomic<Bool>(false)
        let operations = Atomic<Int>(0)
        let publishes = Atomic<Int>(0)
        let failures = Mutex<[String]>([])
        let churnClients = try (0..<churners).map { _ in try connect() }
        let publisher = try connect()
        let pinger = try Pinger(client: connect())
        let phaseStart = DispatchTime.now().uptimeNanoseconds
        let end = phaseStart + UInt64(seconds) * 1_000_000_000
        let perChurner = Double(rate) / Double(churners)
        let window = self.window, resident = self.resident, churners = self.churners
        onThreads(churners + 1) { worker in
            do {
                if worker < churners {
                    let client = churnClients[worker]
                    var customer = resident + 1_000_000 * (worker + 1)
                    var done = 0
                    while !stop.load(ordering: .relaxed) && DispatchTime.now().uptimeNanoseconds < end {
                        var frames: [UInt8] = []
                        for sid in 1...window {
                            ChurnClient.appendSubscribe(sid: UInt64(sid), topic: topicB, customer: customer, to: &frames)
                            customer += 1
                        }
                        for sid in 1...window { FrameEncoder.append(ClientFrame.unsubscribe(sid: UInt64(sid)), to: &frames) }
                        try client.connection.write(frames)
                        try client.expect("UNSUBOK", count: window, alsoCounting: "SUBOK", expected: window)
                        operations.add(2 * window, ordering: .relaxed)
                        done += 2 * window
                        if perChurner > 0 {  // paced: sleep until this churner's share is due
                            let due = phaseStart + UInt64(Double(done) / perChurner * 1e9)
                            let now = DispatchTime.now().uptimeNanoseconds
                            if due > now { usleep(UInt32(min((due - now) / 1_000, 1_000_000))) }
                        }
                    }
                } else {
                    var requestID: UInt64 = 0
                    let attributes = AttributeCodec.encode(["customer": .string("nobody")])
                    while !stop.load(ordering: .relaxed) && DispatchTime.now().uptimeNanoseconds < end {
                        var frames: [UInt8] = []
                        for _ in 0..<50 {
                            requestID += 1
                            FrameEncoder.append(ClientFrame.publish(PublishFrame(
                                topic: topicB, requestID: requestID, attributes: attributes, body: Array(repeating: 0x61, count: 128))), to: &frames)
                        }
                        try publisher.connection.write(frames)
                        try publisher.expect("PUBOK", count: 50)
                        publishes.add(50, ordering: .relaxed)
                    }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
                stop.store(true, ordering: .relaxed)
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - phaseStart) / 1e9
        let pings = try pinger.finish()
        if let failure = failures.withLock({ $0.first }) { throw BenchError("phase 2: \(failure)") }
        Terminal.out(String(
            format: "herald-bench churn ops: %d resident policies, %d churners, target %@: %.0f SUB+UNSUB operations/s, %.0f publishes/s (all confirmed), %.1f s",
            resident, churners, rate == 0 ? "unpaced" : "\(rate) ops/s", Double(operations.load(ordering: .relaxed)) / elapsed,
            Double(publishes.load(ordering: .relaxed)) / elapsed, elapsed))
        Terminal.out("herald-bench churn ops ping: \(pings)")
        for client in residents + churnClients + [publisher] { client.connection.close() }
    }
}

/// Runs `body(0..<count)` on `count` threads of their own (they block on the network, so a pool
/// sized to the cores would serialise them) and returns when all have.
private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    group.wait()
}

/// An unrelated connection that sends a PING every 10 ms on a thread of its own until `finish`,
/// timing each round trip.
final class Pinger: Sendable {
    private let stop = Atomic<Bool>(false)
    private let rtts = Mutex<[UInt64]>([])
    private let failure = Mutex<String?>(nil)
    private let finished = DispatchSemaphore(value: 0)
    private let client: ChurnClient

    init(client: ChurnClient) {
        self.client = client
        Thread { [self] in
            defer { finished.signal() }
            var frame: [UInt8] = []
            FrameEncoder.append(ClientFrame.ping, to: &frame)
            while !stop.load(ordering: .relaxed) {
                let sent = DispatchTime.now().uptimeNanoseconds
                do {
                    try client.connection.write(frame)
                    try client.expect("PONG", count: 1)
                } catch {
                    failure.withLock { $0 = "\(error)" }
                    return
                }
                let rtt = DispatchTime.now().uptimeNanoseconds - sent
                rtts.withLock { $0.append(rtt) }
                if rtt < 10_000_000 { usleep(UInt32((10_000_000 - rtt) / 1_000)) }
            }
        }.start()
    }

    /// Stops, closes the connection and summarises the round trips.
    func finish() throws -> String {
        stop.store(true, ordering: .relaxed)
        finished.wait()
        client.connection.close()
        if let failure = failure.withLock({ $0 }) { throw BenchError("pinger: \(failure)") }
        var samples = rtts.withLock { $0 }
        samples.sort()
        func ms(_ p: Double) -> Double {
            samples.isEmpty ? 0 : Double(samples[min(samples.count - 1, Int(Double(samples.count) * p))]) / 1e6
        }
        return String(format: "%d PINGs from an unrelated connection: p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                      samples.count, ms(0.5), ms(0.99), samples.last.map { Double($0) / 1e6 } ?? 0)
    }
}

/// A blocking stream-protocol client that counts reply lines (the benchmark's frames carry no
/// sections back: its policies match nothing it publishes).
final class ChurnClient: @unchecked Sendable {  // each one is driven by one thread at a time
    let connection: BlockingConnection
    private var pending: [UInt8] = []

    init(target: BenchTarget, tls: TLSContext) throws {
        connection = try BlockingConnection.connect(host: target.host, port: target.port, tls: tls, serverName: target.serverName)
        var hello: [UInt8] = []
        FrameEncoder.append(ClientFrame.connect(ConnectOptions(token: target.token, clientName: "bench-churn")), to: &hello)
        try connection.write(hello)
        try expect("CONNOK", count: 1)
    }

    static func appendSubscribe(sid: UInt64, topic: String, customer: Int, to frames: inout [UInt8]) {
        FrameEncoder.append(ClientFrame.subscribe(SubscribeFrame(
            sid: sid, topic: topic, scope: .messageAttributes, ackMode: .auto, credit: 0,
            policy: Array(#"{"customer":["c\#(customer)"]}"#.utf8))), to: &frames)
    }

    /// Reads until `count` lines start with `verb` (and `expected` with `alsoCounting`); an ERR
    /// line is an error.
    func expect(_ verb: String, count: Int, alsoCounting other: String? = nil, expected: Int = 0) throws {
        var seen = 0, seenOther = 0
        let prefix = Array((verb + " ").utf8), otherPrefix = other.map { Array(($0 + " ").utf8) }
        let bare = Array(verb.utf8)
        while seen < count || seenOther < expected {
            let chunk = try connection.read(timeout: .seconds(60))
            if chunk.isEmpty { throw BenchError("connection closed: \(connection.closeReason.map { "\($0)" } ?? "")") }
            pending.append(contentsOf: chunk)
            var start = 0
            var index = 0
            while index + 1 < pending.count {
                if pending[index] == 0x0D && pending[index + 1] == 0x0A {
                    let line = pending[start..<index]
                    if line.starts(with: prefix) || line.elementsEqual(bare) {
                        seen += 1
                    } else if let otherPrefix, line.starts(with: otherPrefix) {
                        seenOther += 1
                    } else if line.starts(with: Array("ERR ".utf8)) {
                        throw BenchError(String(decoding: line, as: UTF8.self))
                    }
                    index += 2
                    start = index
                } else {
                    index += 1
                }
            }
            pending.removeFirst(start)
        }
    }
}
