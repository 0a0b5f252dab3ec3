import ArgumentParser
import Dispatch
import HeraldCore
import HeraldNet
import HeraldWire
import Synchronization

/// The `herald bench load` engine, measured the way `shared/bench/natsbench.c` measures
/// nats-server: P publisher connections each send N messages of SIZE bytes, S subscriber
/// connections each receive what their policy selects, every connection on its own event loop,
/// publishers write many frames per write; the clock runs from the first publish until every
/// subscriber has all its messages AND every publish is confirmed (NATS confirms nothing).
struct LoadScenario: Sendable {
    var publishers: Int
    var subscribers: Int
    var messagesPerPublisher: Int
    var size: Int
    var topic: String
    /// (b): subscriber j gets a different policy selecting 10% of the messages.
    var filtered: Bool
}

struct LoadResult: Sendable {
    var seconds: Double
    var deliveries: Int
    var publishes: Int
    var errors: [String]
}

/// Messages carry `bucket` (Number, i % 100) and `bucketName` (String, "b<bucket>") when the
/// scenario filters; subscriber j selects 10 buckets, half by numeric range, half by name list.
enum LoadPolicies {
    static func buckets(forSubscriber j: Int) -> [Int] {
        let start = (j * 7) % 91
        return j % 2 == 0 ? Array(start..<(start + 10)) : (0..<10).map { (start + $0 * 9) % 100 }
    }

    static func policy(forSubscriber j: Int) -> String {
        let buckets = buckets(forSubscriber: j)
        if j % 2 == 0 {
            return "{\"bucket\":[{\"numeric\":[\">=\",\(buckets[0]),\"<\",\(buckets[0] + 10)]}]}"
        }
        return "{\"bucketName\":[" + buckets.map { "\"b\($0)\"" }.joined(separator: ",") + "]}"
    }

    /// How many of messages 0..<count carry `bucket` (message i carries i % 100).
    static func messages(inBucket bucket: Int, of count: Int) -> Int {
        count / 100 + (bucket < count % 100 ? 1 : 0)
    }

    static func attributes(bucket: Int) -> [UInt8] {
        AttributeCodec.encode(["bucket": .number(String(bucket)), "bucketName": .string("b\(bucket)")])
    }
}

final class LoadRun: Sendable {
    let scenario: LoadScenario
    let options: BenchTarget
    let done = DispatchSemaphore(value: 0)
    let ready = DispatchSemaphore(value: 0)
    /// Signalled once per connection that finished closing (the process must not exit under them).
    let closed = DispatchSemaphore(value: 0)
    let remaining = Atomic<Int>(0)
    let errors = Mutex<[String]>([])

    init(scenario: LoadScenario, options: BenchTarget) {
        self.scenario = scenario
        self.options = options
    }

    func fail(_ text: String) {
        errors.withLock { $0.append(text) }
        if remaining.subtract(1_000_000_000, ordering: .relaxed).newValue <= 0 { done.signal() }
    }

    func finishedOne() {
        if remaining.subtract(1, ordering: .relaxed).newValue == 0 { done.signal() }
    }

    func run() throws -> LoadResult {
        let s = scenario
        let group = EventLoopGroup(loopCount: s.publishers + s.subscribers, label: "herald.bench")
        let tls = try TLSContext.client(caFile: options.caFile)
        var expected: [Int] = []
        for j in 0..<s.subscribers {
            guard s.filtered else { expected.append(s.publishers * s.messagesPerPublisher); continue }
            // Message i carries bucket i % 100: count each selected bucket's messages arithmetically.
            let perPublisher = Set(LoadPolicies.buckets(forSubscriber: j)).reduce(0) { total, bucket in
                total + LoadPolicies.messages(inBucket: bucket, of: s.messagesPerPublisher)
            }
            expected.append(s.publishers * perPublisher)
        }
        remaining.store(s.subscribers + s.publishers, ordering: .relaxed)
        var connections: [Connection] = []
        var subscriberHandlers: [BenchSubscriber] = []
        for j in 0..<s.subscribers {
            let handler = BenchSubscriber(run: self, expected: expected[j], policy: s.filtered ? LoadPolicies.policy(forSubscriber: j) : nil)
            subscriberHandlers.append(handler)
            connections.append(try Connection.connect(host: options.host, port: options.port, tls: tls, serverName: options.serverName, group: group, makeHandler: { _ in handler }))
        }
        for _ in 0..<s.subscribers {
            guard ready.wait(timeout: .now() + .seconds(30)) == .success else { throw BenchError("subscribers did not get SUBOK within 30 s") }
        }
        var publishers: [(Connection, BenchPublisher)] = []
        for _ in 0..<s.publishers {
            let handler = BenchPublisher(run: self)
            publishers.append((try Connection.connect(host: options.host, port: options.port, tls: tls, serverName: options.serverName, group: group, makeHandler: { _ in handler }), handler))
        }
        for _ in 0..<s.publishers {
            guard ready.wait(timeout: .now() + .seconds(30)) == .success else { throw BenchError("publishers did not get CONNOK within 30 s") }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        for (connection, handler) in publishers {
            connection.execute { handler.start(connection) }
        }
        let finished = done.wait(timeout: .now() + .seconds(600)) == .success
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let all = connections + publishers.map(\.0)
        for connection in all { connection.execute { connection.close() } }
        // Exiting while the loops still tear connections down races the process's own teardown.
        for _ in all where closed.wait(timeout: .now() + .seconds(5)) == .timedOut { break }
        var problems = errors.withLock { $0 }
        if !finished { problems.append("timed out after 600 s") }
        return LoadResult(seconds: seconds, deliveries: expected.reduce(0, +), publishes: s.publishers * s.messagesPerPublisher, errors: problems)
    }
}

/// Splits server output into control lines and skips payloads without decoding frames: as cheap
/// as natsbench's own parser, so the generator costs the shared cores as little as it does. A line
/// that lies whole in one read is handed over in place; only a line split across reads is copied.
struct LineScanner {
    private var line: [UInt8] = []
    private var skip = 0

    /// Calls `onLine` for each complete control line (without CRLF); `onLine` sets how many
    /// payload bytes follow the line (they are skipped).
    mutating func scan(_ bytes: UnsafeRawBufferPointer, onLine: (UnsafeRawBufferPointer, inout Int) -> Void) {
        var i = 0
        let n = bytes.count
        while i < n {
            if skip > 0 {
                let take = min(skip, n - i)
                i += take
                skip -= take
                continue
            }
            var lf = i
            while lf < n && bytes[lf] != UInt8(ascii: "\n") { lf += 1 }
            if lf == n {
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<n]))
                return
            }
            var payload = 0
            if line.isEmpty {
                let end = lf > i && bytes[lf - 1] == UInt8(ascii: "\r") ? lf - 1 : lf
                onLine(UnsafeRawBufferPointer(rebasing: bytes[i..<end]), &payload)
            } else {
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<lf]))
                let end = line.last == UInt8(ascii: "\r") ? line.count - 1 : line.count
                line.withUnsafeBytes { onLine(UnsafeRawBufferPointer(rebasing: $0[0..<end]), &payload) }
                line.removeAll(keepingCapacity: true)
            }
            skip = payload
            i = lf + 1
        }
    }

    static func hasPrefix(_ line: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard line.count >= count else { return false }
        let p = prefix.utf8Start
        for index in 0..<count where line[index] != p[index] { return false }
        return true
    }

    /// The payload size a MSG line announces: attributes-length + body-length + CRLF. The line is
    /// `MSG sid tag topic id alen blen [flags]`: skip to the sixth field and read two numbers (every
    /// byte of the topic and id was examined twice before; this runs once per delivery and showed in
    /// the generator's profile). A line that does not look like that announces no payload (2).
    static func messagePayload(_ line: UnsafeRawBufferPointer) -> Int {
        let n = line.count
        var i = 0
        var spaces = 0
        while i < n && spaces < 5 {
            if line[i] == UInt8(ascii: " ") { spaces += 1 }
            i += 1
        }
        guard spaces == 5, let attributes = number(line, at: &i), i < n, line[i] == UInt8(ascii: " ") else { return 2 }
        i += 1
        guard let body = number(line, at: &i), i == n || line[i] == UInt8(ascii: " ") else { return 2 }
        return attributes + body + 2
    }

    /// The decimal at `i` (advanced past it), nil when there is none.
    private static func number(_ line: UnsafeRawBufferPointer, at i: inout Int) -> Int? {
        let start = i
        var value = 0
        while i < line.count, line[i] >= 48, line[i] <= 57, i - start < 18 {
            value = value &* 10 &+ Int(line[i] - 48)
            i += 1
        }
        return i > start ? value : nil
    }
}

final class BenchSubscriber: ConnectionHandler, @unchecked Sendable {
    private let run: LoadRun
    private let expected: Int
    private let policy: String?
    private var scanner = LineScanner()
    private var received = 0
    private var sinceCredit = 0
    private var out: [UInt8] = []
    static let window: UInt32 = 20_000

    init(run: LoadRun, expected: Int, policy: String?) {
        self.run = run
        self.expected = expected
        self.policy = policy
    }

    func connectionDidOpen(_ connection: Connection) {
        FrameEncoder.append(ClientFrame.connect(ConnectOptions(token: run.options.token, clientName: "bench-sub")), to: &out)
        let scope: FilterScope = .messageAttributes
        FrameEncoder.append(ClientFrame.subscribe(SubscribeFrame(sid: 1, topic: run.scenario.topic, scope: scope, ackMode: .auto, credit: Self.window, policy: Array((policy ?? "").utf8))), to: &out)
        _ = connection.write(out)
        out.removeAll(keepingCapacity: true)
        connection.flush()
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        scanner.scan(bytes) { line, payload in
            if LineScanner.hasPrefix(line, "MSG ") {
                payload = LineScanner.messagePayload(line)
                received += 1
                sinceCredit += 1
            } else if LineScanner.hasPrefix(line, "SUBOK") {
                run.ready.signal()
            } else if LineScanner.hasPrefix(line, "PING") {
                FrameEncoder.append(ClientFrame.pong, to: &out)
            } else if LineScanner.hasPrefix(line, "ERR") {
                run.fail("subscriber: " + String(decoding: line, as: UTF8.self))
            }
        }
    }

    func connectionDidFinishReadBatch(_ connection: Connection) {
        if sinceCredit >= Int(Self.window / 4) {
            FrameEncoder.append(ClientFrame.credit(sid: 1, count: UInt32(sinceCredit)), to: &out)
            sinceCredit = 0
        }
        if !out.isEmpty {
            _ = connection.write(out)
            out.removeAll(keepingCapacity: true)
        }
        if received == expected {
            received += 1  // report once
            run.finishedOne()
        }
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        if received < expected { run.fail("subscriber closed after \(received)/\(expected): \(reason)") }
        run.closed.signal()
    }
}

final class BenchPublisher: ConnectionHandler, @unchecked Sendable {
    private let run: LoadRun
    private var scanner = LineScanner()
    private var sent = 0
    private var confirmed = 0
    private var started = false
    private var out: [UInt8] = []
    private let body: [UInt8]
    private let attributeSections: [[UInt8]]

    init(run: LoadRun) {
        self.run = run
        self.body = [UInt8](repeating: UInt8(ascii: "x"), count: run.scenario.size)
        self.attributeSections = run.scenario.filtered ? (0..<100).map(LoadPolicies.attributes(bucket:)) : []
    }

    func connectionDidOpen(_ connection: Connection) {
        FrameEncoder.append(ClientFrame.connect(ConnectOptions(token: run.options.token, clientName: "bench-pub")), to: &out)
        _ = connection.write(out)
        out.removeAll(keepingCapacity: true)
        connection.flush()
    }

    func start(_ connection: Connection) {
        started = true
        fill(connection)
    }

    /// Writes frames until the output buffer passes its high-water mark; resumes when it drains.
    private func fill(_ connection: Connection) {
        let total = run.scenario.messagesPerPublisher
        while sent < total && connection.isWritable {
            let batchEnd = min(total, sent + 512)
            out.removeAll(keepingCapacity: true)
            while sent < batchEnd {
                let attributes = attributeSections.isEmpty ? [] : attributeSections[sent % 100]
                FrameEncoder.appendPublish(topic: run.scenario.topic, requestID: UInt64(sent), attributes: attributes, body: body, groupID: nil, deduplicationID: nil, to: &out)
                sent += 1
            }
            guard connection.write(out) else { return run.fail("publisher: write refused") }
            connection.flush()
        }
    }

    func connectionDidBecomeWritable(_ connection: Connection) {
        if started { fill(connection) }
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        scanner.scan(bytes) { line, _ in
            if LineScanner.hasPrefix(line, "PUBOK") {
                confirmed += 1
            } else if LineScanner.hasPrefix(line, "CONNOK") {
                run.ready.signal()
            } else if LineScanner.hasPrefix(line, "PING") {
                FrameEncoder.append(ClientFrame.pong, to: &out)
                _ = connection.write(out)
                out.removeAll(keepingCapacity: true)
            } else if LineScanner.hasPrefix(line, "ERR") {
                run.fail("publisher: " + String(decoding: line, as: UTF8.self))
            }
        }
    }

    func connectionDidFinishReadBatch(_ connection: Connection) {
        if confirmed == run.scenario.messagesPerPublisher {
            confirmed += 1
            run.finishedOne()
        }
        if started { fill(connection) }
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        if confirmed < run.scenario.messagesPerPublisher { run.fail("publisher closed after \(confirmed) confirmations: \(reason)") }
        run.closed.signal()
    }
}

/// The server options the load benchmarks share (`bench load`, `bench churn`).
struct BenchServerArguments: ParsableArguments {
    @Option(help: "Server address as HOST:PORT.")
    var server: String = "127.0.0.1:4433"

    @Option(help: "CA certificate that signs the server's certificate.")
    var ca: String?

    @Option(help: "Access token.")
    var token: String?

    func target() throws -> BenchTarget {
        let (host, port) = try serverAddress(server)
        return BenchTarget(host: host, port: port, caFile: ca, serverName: nil, token: token)
    }
}

struct BenchTarget: Sendable {
    var host: String
    var port: Int
    var caFile: String?
    var serverName: String?
    var token: String?
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}
