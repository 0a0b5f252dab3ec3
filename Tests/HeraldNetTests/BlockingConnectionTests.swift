import Foundation
import HeraldTestSupport
@testable import HeraldNet
import Testing

extension NetTests {
    @Suite struct Blocking {
        @Test func blockingClientEchoesLargePayload() async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try TestTLS.server(), log: serverLog, keepBytes: false)
            defer { listener.close() }
            let port = listener.port
            let received = try await Task.detached {
                let client = try BlockingConnection.connect(host: "localhost", port: port, tls: try TestTLS.client())
                #expect(client.tlsVersion == "TLSv1.3")
                let payload = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                for start in stride(from: 0, to: payload.count, by: 256 << 10) {
                    try client.write(Array(payload[start..<min(start + (256 << 10), payload.count)]))
                }
                var received: [UInt8] = []
                while received.count < payload.count {
                    received += try client.read(timeout: .seconds(10))
                }
                client.close()
                return received == payload
            }.value
            #expect(received)
            #expect(await eventually { serverLog.closes == [.peerClosed] })
        }

        @Test func closeWhenFlushedDeliversEverythingFirst() async throws {
            let size = 4 << 20
            let listener = try Listener(port: 0, tls: try TestTLS.server()) { _ in
                RecordingHandler(log: EventLog(), onOpen: { connection in
                    let chunk = [UInt8](repeating: 0x7A, count: 64 << 10)
                    for _ in 0..<(size / chunk.count) { connection.write(chunk) }
                    connection.flush()
                    connection.closeWhenFlushed(.protocolError("bye"))
                    #expect(!connection.write(chunk))  // nothing more after asking to close
                })
            }
            defer { listener.close() }
            let port = listener.port
            let (total, reason) = try await Task.detached {
                let client = try BlockingConnection.connect(host: "127.0.0.1", port: port, tls: try TestTLS.client())
                var total = 0
                while true {
                    let chunk = try client.read(timeout: .seconds(10))
                    if chunk.isEmpty { break }
                    total += chunk.count
                }
                return (total, client.closeReason)
            }.value
            #expect(total == size)
            #expect(reason == .peerClosed)
        }

        @Test func blockingConnectReportsFailures() async throws {
            let listener = try Listener.echo(tls: try TestTLS.server(), log: EventLog())
            defer { listener.close() }
            let port = listener.port
            let error = await Task.detached { () -> NetError? in
                do {
                    _ = try BlockingConnection.connect(host: "127.0.0.1", port: port, tls: try TestTLS.client(),
                                                       serverName: "wrong.example")
                    return nil
                } catch let error as NetError {
                    return error
                } catch {
                    return nil
                }
            }.value
            #expect(error?.message.contains("hostname mismatch") == true, "\(String(describing: error))")
        }
    }
}
