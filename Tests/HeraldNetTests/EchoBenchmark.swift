// Throughput measurement, off by default (run: HERALD_NET_BENCH=1 swift test -c release --filter EchoBenchmark).
// Each client keeps `window` 132-byte messages in flight against a TLS echo server and refills
// per read batch, so both sides write coalesced.
import Foundation
import HeraldTestSupport
@testable import HeraldNet
import Synchronization
import Testing

final class PipelinedEchoClient: ConnectionHandler, @unchecked Sendable {
    static let messageSize = 132
    let total: Int
    let window: Int
    let message = [UInt8](repeating: 0x41, count: PipelinedEchoClient.messageSize)
    var sent = 0
    var receivedBytes = 0
    let done: Counter

    init(total: Int, window: Int, done: Counter) {
        self.total = total
        self.window = window
        self.done = done
    }

    private func refill(_ connection: Connection) {
        let received = receivedBytes / Self.messageSize
        while sent < total && sent - received < window {
            connection.write(message)
            sent += 1
        }
    }

    func connectionDidOpen(_ connection: Connection) {
        refill(connection)
        connection.flush()
    }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        receivedBytes += bytes.count
    }

    func connectionDidFinishReadBatch(_ connection: Connection) {
        refill(connection)
        if receivedBytes == total * Self.messageSize {
            done.value.add(1, ordering: .relaxed)
            connection.close()
        }
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {}
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// Echo without recording: the server side of the benchmark.
final class EchoHandler: ConnectionHandler, @unchecked Sendable {
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) { connection.write(bytes) }
    func connectionDidClose(_ connection: Connection, reason: CloseReason) {}
}

extension NetTests {
    @Suite(.enabled(if: ProcessInfo.processInfo.environment["HERALD_NET_BENCH"] != nil))
    struct EchoBenchmark {
        @Test(arguments: [(1, 512, 2_000_000), (50, 512, 100_000), (50, 16, 20_000), (1, 1, 10_000)])
        func echoThroughput(connections: Int, window: Int, perConnection: Int) async throws {
            let scale = Double(ProcessInfo.processInfo.environment["HERALD_NET_BENCH_SCALE"] ?? "1") ?? 1
            let perConnection = max(1, Int(Double(perConnection) * scale))
            let serverGroup = EventLoopGroup(loopCount: 1, label: "bench.server")
            let clientGroup = EventLoopGroup(loopCount: 1, label: "bench.client")
            let plain = ProcessInfo.processInfo.environment["HERALD_NET_BENCH_PLAIN"] != nil
            let listener = try Listener(port: 0, tls: plain ? nil : try TestTLS.server(), group: serverGroup) { _ in EchoHandler() }
            defer { listener.close() }
            let tls = plain ? nil : try TestTLS.client()
            let done = Counter()
            let start = ContinuousClock.now
            for _ in 0..<connections {
                _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: tls, group: clientGroup) { _ in
                    PipelinedEchoClient(total: perConnection, window: window, done: done)
                }
            }
            #expect(await eventually(.seconds(120)) { done.value.load(ordering: .relaxed) == connections })
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let messages = Double(connections * perConnection)
            print(String(format: "echo \(plain ? "TCP" : "TLS"): %d conn, window %d: %.0f msg/s (%.0f msgs in %.2f s)",
                         connections, window, messages / seconds, messages, seconds))
        }
    }
}
