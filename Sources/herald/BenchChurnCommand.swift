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
                try creators[c].write(frames)
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
        for client in creators { client.close() }

        // Phase 2: churn next to resident policies, a publisher and a pinger.
        let topicB = "churn-b-\(run)"
        var residents: [ChurnClient] = []
        var placed = 0
        while placed < resident {
            let client = try connect()
            let count = min(perConnection, resident - placed)
            var frames: [UInt8] = []
            for i in 0..<count { ChurnClient.appendSubscribe(sid: UInt64(i + 1), topic: topicB, customer: placed + i, to: &frames) }
            try client.write(frames)
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
                        try client.write(frames)
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
                        try publisher.write(frames)
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
        for client in residents + churnClients + [publisher] { client.close() }
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
                    try client.write(frame)
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
        client.close()
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
/// sections back: its policies match nothing it publishes). Its `Connection` runs on the event
/// loop with a `ChurnReplies` handler; the thread that drives the client blocks on a semaphore
/// until the replies it waits for have been counted.
final class ChurnClient: Sendable {
    private let connection: Connection
    private let replies: ChurnReplies

    init(target: BenchTarget, tls: TLSContext) throws {
        let replies = ChurnReplies()
        var options = ConnectionOptions()
        options.handshakeTimeout = .seconds(10)
        connection = try Connection.connect(host: target.host, port: target.port, tls: tls, serverName: target.serverName,
                                            options: options) { _ in replies }
        self.replies = replies
        try replies.waitUntilOpen(endpoint: "\(target.host):\(target.port)")
        var hello: [UInt8] = []
        FrameEncoder.append(ClientFrame.connect(ConnectOptions(token: target.token, clientName: "bench-churn")), to: &hello)
        try write(hello)
        try expect("CONNOK", count: 1)
    }

    static func appendSubscribe(sid: UInt64, topic: String, customer: Int, to frames: inout [UInt8]) {
        FrameEncoder.append(ClientFrame.subscribe(SubscribeFrame(
            sid: sid, topic: topic, scope: .messageAttributes, ackMode: .auto, credit: 0,
            policy: Array(#"{"customer":["c\#(customer)"]}"#.utf8))), to: &frames)
    }

    /// Queues `frames` and flushes; returns once the output buffer is below its high-water mark.
    func write(_ frames: [UInt8]) throws {
        let connection = self.connection, replies = self.replies
        replies.state.withLock { $0.writeDone = false }
        connection.execute {
            let accepted = connection.write(frames)
            connection.flush()
            let writable = connection.isWritable
            replies.state.withLock {
                $0.writeDone = true
                $0.writeRefused = $0.writeRefused || !accepted
                $0.writable = writable
            }
            replies.signal.signal()
        }
        try replies.wait { state in
            guard state.writeDone else { return false }
            if state.writeRefused { throw BenchError("write refused: \(state.closed.map { "\($0)" } ?? "output limit")") }
            if state.writable { return true }
            if let closed = state.closed { throw BenchError("connection closed: \(closed)") }
            return false
        }
    }

    /// Waits until `count` lines start with `verb` (and `expected` with `alsoCounting`) and
    /// consumes them; an ERR line is an error.
    func expect(_ verb: String, count: Int, alsoCounting other: String? = nil, expected: Int = 0) throws {
        let reply = try ChurnReplies.index(of: verb)
        let otherReply = try other.map(ChurnReplies.index(of:))
        try replies.wait(timeout: .seconds(60)) { state in
            if let error = state.error { throw BenchError(error) }
            let enough = state.counts[reply] >= count && (otherReply.map { state.counts[$0] >= expected } ?? true)
            if enough {
                state.counts[reply] -= count
                if let otherReply { state.counts[otherReply] -= expected }
                return true
            }
            if let closed = state.closed { throw BenchError("connection closed: \(closed)") }
            return false
        }
    }

    /// Sends what is pending, closes, and waits (up to 5 s) until the close completed.
    func close() {
        let connection = self.connection
        connection.execute { connection.closeWhenFlushed(.closedByOwner, timeout: .seconds(5)) }
        try? replies.wait(timeout: .milliseconds(5_500)) { $0.closed != nil }
    }

    deinit {
        let connection = self.connection
        connection.execute { connection.close() }
    }
}

/// `ChurnClient`'s handler: counts the reply lines by verb on the connection's queue and wakes the
/// client's thread after each read batch, write and close.
final class ChurnReplies: ConnectionHandler, @unchecked Sendable {  // `scanner` and `found`: connection queue only
    /// The reply lines counted; `State.counts` is indexed like this list.
    static let verbs: [[UInt8]] = ["CONNOK", "SUBOK", "UNSUBOK", "PUBOK", "PONG"].map { Array($0.utf8) }

    static func index(of verb: String) throws -> Int {
        guard let index = verbs.firstIndex(of: Array(verb.utf8)) else { throw BenchError("not a counted reply: \(verb)") }
        return index
    }

    struct State {
        var opened = false
        var closed: CloseReason?
        var counts = [Int](repeating: 0, count: ChurnReplies.verbs.count)
        /// The first ERR line.
        var error: String?
        var writeDone = true
        var writeRefused = false
        var writable = true
    }

    let state = Mutex(State())
    let signal = DispatchSemaphore(value: 0)
    private var scanner = LineScanner()
    /// Lines counted in the current read, by verb (connection queue only).
    private var found = [Int](repeating: 0, count: ChurnReplies.verbs.count)

    /// Blocks until `condition` (which may update the state) holds; throws what it throws, or
    /// when nothing happens on the connection for `timeout`.
    func wait(timeout: Duration? = nil, until condition: (inout State) throws -> Bool) throws {
        while true {
            if try state.withLock({ try condition(&$0) }) { return }
            if let timeout {
                let (seconds, attoseconds) = timeout.components
                let interval = DispatchTimeInterval.nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
                if signal.wait(timeout: .now() + interval) == .timedOut { throw BenchError("no reply within \(timeout)") }
            } else {
                signal.wait()
            }
        }
    }

    /// Waits for the TLS handshake (bounded by the connection's handshake timeout).
    func waitUntilOpen(endpoint: String) throws {
        try wait { state in
            if state.opened { return true }
            if let closed = state.closed { throw BenchError("\(endpoint): \(closed)") }
            return false
        }
    }

    func connectionDidOpen(_ connection: Connection) {
        state.withLock { $0.opened = true }
        signal.signal()
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        var error: String?
        for index in found.indices { found[index] = 0 }
        scanner.scan(bytes) { line, _ in
            for (index, verb) in Self.verbs.enumerated() where Self.isLine(line, verb) {
                found[index] += 1
                return
            }
            if error == nil && LineScanner.hasPrefix(line, "ERR ") { error = String(decoding: line, as: UTF8.self) }
        }
        state.withLock { state in
            for index in found.indices { state.counts[index] += found[index] }
            if state.error == nil { state.error = error }
        }
    }

    /// `line` is `verb` alone or starts with `verb` and a space.
    private static func isLine(_ line: UnsafeRawBufferPointer, _ verb: [UInt8]) -> Bool {
        guard line.count >= verb.count, zip(line, verb).allSatisfy({ $0 == $1 }) else { return false }
        return line.count == verb.count || line[verb.count] == UInt8(ascii: " ")
    }

    func connectionDidFinishReadBatch(_ connection: Connection) { signal.signal() }

    func connectionDidBecomeWritable(_ connection: Connection) {
        state.withLock { $0.writable = true }
        signal.signal()
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        state.withLock { $0.closed = reason }
        signal.signal()
    }
}
