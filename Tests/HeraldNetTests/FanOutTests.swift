import Foundation
import HeraldTestSupport
@testable import HeraldNet
import Synchronization
import Testing

extension NetTests {
    /// The broker pattern: bytes read on one connection are handed to others with `execute`,
    /// once per read batch (one shared immutable copy, one hop per subscriber), then flushed there.
    @Suite struct FanOut {
        final class Hub: Sendable {
            let subscribers = Mutex<[Connection]>([])
        }

        final class HubHandler: ConnectionHandler, @unchecked Sendable {
            let hub: Hub
            var batch: [UInt8] = []
            init(hub: Hub) { self.hub = hub }

            func connectionDidOpen(_ connection: Connection) {
                if connection.peerCertificate == nil {  // anonymous clients subscribe
                    hub.subscribers.withLock { $0.append(connection) }
                }
            }
            func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
                batch.append(contentsOf: bytes)
            }
            func connectionDidFinishReadBatch(_ connection: Connection) {
                let shared = batch  // one immutable copy per batch, shared by every subscriber
                batch.removeAll(keepingCapacity: true)
                for subscriber in hub.subscribers.withLock({ $0 }) {
                    subscriber.execute {
                        subscriber.write(shared)
                        subscriber.flush()
                    }
                }
            }
            func connectionDidClose(_ connection: Connection, reason: CloseReason) {
                hub.subscribers.withLock { $0.removeAll { $0 === connection } }
            }
        }

        @Test func publisherBytesReachEverySubscriber() async throws {
            let hub = Hub()
            let group = EventLoopGroup(loopCount: 3, label: "fanout")
            let listener = try Listener(port: 0, tls: try TestTLS.server(clientCA: TestPaths.ca, policy: .optional),
                                        group: group) { _ in HubHandler(hub: hub) }
            defer { listener.close() }
            let subscriberLogs = (0..<5).map { _ in EventLog() }
            for log in subscriberLogs {
                _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client(), group: group) { _ in
                    RecordingHandler(log: log, keepBytes: false)
                }
            }
            #expect(await eventually { hub.subscribers.withLock { $0.count } == 5 })
            let payload = [UInt8](repeating: 0x2A, count: 100_000)
            let publisherLog = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: listener.port,
                                       tls: try TestTLS.client(withCertificate: true), group: group) { _ in
                RecordingHandler(log: publisherLog, onOpen: { connection in
                    for start in stride(from: 0, to: payload.count, by: 1000) {
                        connection.write(payload[start..<start + 1000])
                    }
                    connection.flush()
                })
            }
            #expect(await eventually(.seconds(10)) { subscriberLogs.allSatisfy { $0.byteCount == payload.count } })
        }
    }
}
