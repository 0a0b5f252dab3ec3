import Dispatch
import Foundation
import HeraldCore
import HeraldNet
import Histogram
import HeraldWire
import Synchronization

/// Publish→deliver latency at a fixed, moderate rate: one publisher stamps each body with the
/// monotonic clock when it encodes the PUB; subscribers (same process, same clock) record
/// now − stamp into an HDR histogram (nanoseconds, 3 significant digits, up to 60 s), merged at
/// the end. The stamp is the actual send time, so a publisher running late is not counted.
/// With `traceFile`, every message's stamp and arrival are also written there (one line each:
/// subscriber index, send ns, arrival ns; the monotonic clock, which `perf record -k
/// CLOCK_MONOTONIC` shares), to line slow messages up with a scheduler trace.
struct LatencyRun {
    var target: BenchTarget
    var topic: String
    var size: Int
    var rate: Int
    var seconds: Int
    var subscribers: Int
    var traceFile: String? = nil

    func run() throws -> String {
        if let traceFile { try LatencyTrace.write([], to: traceFile) }  // an unwritable path fails before the run
        let group = EventLoopGroup(loopCount: 1 + subscribers, label: "herald.latency")
        let tls = try TLSContext.client(caFile: target.caFile)
        let total = rate * seconds
        let samples = LatencySamples()
        let ready = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        var connections: [Connection] = []
        var traces: [LatencyTrace] = []
        for _ in 0..<subscribers {
            let trace = traceFile.map { _ in LatencyTrace(capacity: total) }
            if let trace { traces.append(trace) }
            let handler = LatencySubscriber(topic: topic, token: target.token, expected: total, samples: samples, ready: ready, done: done, trace: trace)
            connections.append(try Connection.connect(host: target.host, port: target.port, tls: tls, group: group, makeHandler: { _ in handler }))
        }
        for _ in 0..<subscribers where ready.wait(timeout: .now() + .seconds(30)) != .success {
            throw BenchError("subscribers not ready within 30 s")
        }
        let publisher = LatencyPublisher(topic: topic, token: target.token, size: size, rate: rate, total: total, ready: ready)
        let connection = try Connection.connect(host: target.host, port: target.port, tls: tls, group: group, makeHandler: { _ in publisher })
        guard ready.wait(timeout: .now() + .seconds(30)) == .success else { throw BenchError("publisher not ready") }
        connection.execute { publisher.start(connection) }
        var finished = 0
        while finished < subscribers, done.wait(timeout: .now() + .seconds(seconds + 30)) == .success { finished += 1 }
        for c in connections + [connection] { c.execute { c.close() } }
        if let traceFile {
            try LatencyTrace.write(traces, to: traceFile)
        }
        let histogram = samples.histogram.withLock { $0 }
        guard histogram.totalCount > 0 else { throw BenchError("no deliveries") }
        func percentile(_ p: Double) -> Double { Double(histogram.valueAtPercentile(p)) / 1000 }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        return String(format: "herald-bench latency tls rate=%d/s subs=%d n=%llu (HDR histogram): p50 %.0f µs, p99 %.0f µs, p99.9 %.0f µs, p99.99 %.0f µs, max %.0f µs, load %@%@",
                      rate, subscribers, histogram.totalCount, percentile(50), percentile(99), percentile(99.9), percentile(99.99),
                      Double(histogram.max) / 1000, load, finished < subscribers ? " (INCOMPLETE: some subscribers missed messages)" : "")
    }
}

final class LatencySubscriber: ConnectionHandler, @unchecked Sendable {
    let topic: String, token: String?, expected: Int
    let samples: LatencySamples
    let ready: DispatchSemaphore, done: DispatchSemaphore
    /// Per-message stamps and arrivals (`--latency-trace`), nil when not asked for.
    let trace: LatencyTrace?
    private var decoder = ServerFrameDecoder()
    private var local = LatencySamples.emptyHistogram()
    private var received = 0
    private var out: [UInt8] = []

    init(topic: String, token: String?, expected: Int, samples: LatencySamples, ready: DispatchSemaphore, done: DispatchSemaphore, trace: LatencyTrace? = nil) {
        self.topic = topic; self.token = token; self.expected = expected
        self.samples = samples; self.ready = ready; self.done = done; self.trace = trace
    }

    func connectionDidOpen(_ connection: Connection) {
        FrameEncoder.append(ClientFrame.connect(ConnectOptions(token: token, clientName: "latency-sub")), to: &out)
        FrameEncoder.append(ClientFrame.subscribe(SubscribeFrame(sid: 1, topic: topic, ackMode: .auto, credit: 1_000_000)), to: &out)
        _ = connection.write(out)
        out.removeAll()
        connection.flush()
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        decoder.append(bytes)
        let now = DispatchTime.now().uptimeNanoseconds
        while let frame = try? decoder.next() {
            switch frame {
            case .subscribed: ready.signal()
            case .message(let m) where m.body.count >= 8:
                var stamp: UInt64 = 0
                for i in 0..<8 { stamp |= UInt64(m.body[i]) << (8 * UInt64(i)) }
                _ = local.record(min(now &- stamp, LatencySamples.highest))
                trace?.append(sent: stamp, arrived: now)
                received += 1
                if received == expected {
                    let mine = local
                    samples.histogram.withLock { $0.add(mine) }
                    done.signal()
                }
            case .ping:
                FrameEncoder.append(ClientFrame.pong, to: &out)
                _ = connection.write(out)
                out.removeAll()
            default: break
            }
        }
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {}
}

/// One subscriber's (send stamp, arrival) pairs in nanoseconds, kept only for `--latency-trace`.
/// Appended on the subscriber's loop; read once the run is over (the lock makes a read of an
/// unfinished subscriber safe, and is uncontended meanwhile).
final class LatencyTrace: Sendable {
    private let pairs: Mutex<[UInt64]>

    /// Reserves room for `capacity` messages up front, so recording never grows the array mid-run.
    init(capacity: Int) {
        var storage: [UInt64] = []
        storage.reserveCapacity(2 * capacity)
        pairs = Mutex(storage)
    }

    func append(sent: UInt64, arrived: UInt64) {
        pairs.withLock { $0.append(sent); $0.append(arrived) }
    }

    /// "subscriber send_ns arrival_ns" per message, subscribers in order, after a header line.
    static func text(_ traces: [LatencyTrace]) -> String {
        var text = "# subscriber send_ns arrival_ns (monotonic clock)\n"
        for (index, trace) in traces.enumerated() {
            trace.pairs.withLock { pairs in
                for i in stride(from: 0, to: pairs.count - 1, by: 2) { text += "\(index) \(pairs[i]) \(pairs[i + 1])\n" }
            }
        }
        return text
    }

    static func write(_ traces: [LatencyTrace], to path: String) throws {
        do {
            try text(traces).write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw BenchError("cannot write the latency trace to \(path): \(error.localizedDescription)")
        }
    }
}

/// Latencies in nanoseconds, gathered from every subscriber.
final class LatencySamples: Sendable {
    /// 60 s in nanoseconds: anything slower is recorded as 60 s.
    static let highest: UInt64 = 60_000_000_000
    static func emptyHistogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: highest, numberOfSignificantValueDigits: .three)
    }

    let histogram = Mutex(LatencySamples.emptyHistogram())
}

final class LatencyPublisher: ConnectionHandler, @unchecked Sendable {
    let topic: String, token: String?, size: Int, rate: Int, total: Int
    let ready: DispatchSemaphore
    private var sent = 0
    private var out: [UInt8] = []
    private var startNanos: UInt64 = 0
    /// Fires every millisecond on the connection's queue until everything is sent.
    private var pacer: (any DispatchSourceTimer)?

    init(topic: String, token: String?, size: Int, rate: Int, total: Int, ready: DispatchSemaphore) {
        self.topic = topic; self.token = token; self.size = size; self.rate = rate; self.total = total; self.ready = ready
    }

    func connectionDidOpen(_ connection: Connection) {
        FrameEncoder.append(ClientFrame.connect(ConnectOptions(token: token, clientName: "latency-pub")), to: &out)
        _ = connection.write(out)
        out.removeAll()
        connection.flush()
        ready.signal()
    }

    /// Starts the pacer. It is strict with no leeway: `asyncAfter` lets libdispatch fire a 1 ms
    /// timer up to 1 ms late (its default leeway), which made the ticks 1.2 ms apart at the median
    /// and up to 6 ms, so the rate came in uneven bursts of 20–120 messages.
    func start(_ connection: Connection) {
        startNanos = DispatchTime.now().uptimeNanoseconds
        let timer = DispatchSource.makeTimerSource(flags: .strict, queue: connection.queue)
        timer.setEventHandler { [self] in tick(connection) }
        timer.schedule(deadline: .now(), repeating: .milliseconds(1), leeway: .nanoseconds(0))
        pacer = timer
        timer.activate()
    }

    /// Every millisecond, sends what the schedule says is due (each message stamped when encoded).
    private func tick(_ connection: Connection) {
        let now = DispatchTime.now().uptimeNanoseconds
        let due = min(total, Int(Double(now - startNanos) / 1e9 * Double(rate)) + 1)
        var body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        while sent < due {
            let stamp = DispatchTime.now().uptimeNanoseconds
            for i in 0..<8 { body[i] = UInt8(truncatingIfNeeded: stamp >> (8 * UInt64(i))) }
            FrameEncoder.appendPublish(topic: topic, requestID: UInt64(sent), attributes: [], body: body, groupID: nil, deduplicationID: nil, to: &out)
            sent += 1
        }
        if !out.isEmpty {
            _ = connection.write(out)
            out.removeAll(keepingCapacity: true)
            connection.flush()
        }
        if sent >= total {
            pacer?.cancel()
            pacer = nil
        }
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        pacer?.cancel()
        pacer = nil
    }
}
