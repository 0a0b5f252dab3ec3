import Foundation
@testable import HeraldNet
import Synchronization
import Testing

extension NetTests {
    @Suite struct MisbehavingPeers {
        @Test(arguments: ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\u{16}\u{03}\u{01}\u{00}\u{05}garbage-after-a-record-header"])
        func garbageBeforeHandshakeIsAHandshakeError(garbage: String) async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try Certs.server(), log: serverLog)
            defer { listener.close() }
            let raw = try RawSocket(port: listener.port)
            raw.send(garbage)
            #expect(raw.readsUntilClosed())
            #expect(await eventually { serverLog.closes.count == 1 })
            guard case .handshakeFailed(let text)? = serverLog.closes.first else {
                Issue.record("expected handshakeFailed, got \(serverLog.closes)")
                return
            }
            #expect(!text.isEmpty)
            #expect(serverLog.opened == 0)

            // The server keeps serving others.
            let clientLog = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try Certs.client()) { _ in
                RecordingHandler(log: clientLog, onOpen: { connection in
                    connection.write(Array("still here".utf8))
                    connection.flush()
                })
            }
            #expect(await eventually { clientLog.byteCount == 10 })
        }

        @Test func silentClientIsDroppedByHandshakeTimeout() async throws {
            var options = ConnectionOptions()
            options.handshakeTimeout = .milliseconds(300)
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try Certs.server(), log: serverLog, options: options)
            defer { listener.close() }
            let started = ContinuousClock.now
            let raw = try RawSocket(port: listener.port)
            #expect(raw.readsUntilClosed())
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(3), "dropped after \(elapsed)")
            #expect(await eventually { serverLog.closes == [.handshakeTimeout] })
            #expect(await eventually { listener.activeConnections == 0 })
        }

        @Test func connectTimeoutAndRefusalAreReported() async throws {
            // A listener nobody accepts the TLS handshake on: connect succeeds, handshake never ends.
            let stuck = try Listener(port: 0, tls: nil) { _ in RecordingHandler(log: EventLog()) }
            defer { stuck.close() }
            var options = ConnectionOptions()
            options.handshakeTimeout = .milliseconds(200)
            let log = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: stuck.port, tls: try Certs.client(), options: options) { _ in
                RecordingHandler(log: log)
            }
            #expect(await eventually { log.closes == [.handshakeTimeout] })

            // Nothing listens on a closed port: connect fails with the errno text.
            let closed = try Listener(port: 0, tls: nil) { _ in nil }
            let port = closed.port
            closed.close()
            try await Task.sleep(for: .milliseconds(50))
            let refusedLog = EventLog()
            do {
                _ = try Connection.connect(host: "127.0.0.1", port: port, tls: try Certs.client()) { _ in
                    RecordingHandler(log: refusedLog)
                }
                #expect(await eventually { refusedLog.closes.count == 1 })
                guard case .connectFailed(let text)? = refusedLog.closes.first else {
                    Issue.record("expected connectFailed, got \(refusedLog.closes)")
                    return
                }
                #expect(text.contains("refused"), "\(text)")
            } catch let error as NetError {
                #expect(error.code == .socket)  // an immediate refusal is also acceptable
            }
        }

        /// A subscriber that never reads: output stops at the hard limit, the owner is told once,
        /// and memory stays bounded.
        @Test func peerThatNeverReadsHitsTheOutputLimit() async throws {
            var options = ConnectionOptions()
            options.outputHighWaterMark = 256 << 10
            options.outputLowWaterMark = 64 << 10
            options.outputHardLimit = 1 << 20
            let hardLimit = options.outputHardLimit
            let serverLog = EventLog()
            let refusedWrites = Atomic<Int>(0)
            let chunk = [UInt8](repeating: 0x61, count: 64 << 10)
            let listener = try Listener(port: 0, tls: try Certs.server(), options: options) { _ in
                RecordingHandler(log: serverLog, onOpen: { connection in
                    // Push up to 256 MiB; the socket buffers fill, then pending output hits the limit.
                    for _ in 0..<4096 {
                        if !connection.write(chunk) {
                            refusedWrites.add(1, ordering: .relaxed)
                            break
                        }
                        connection.flush()
                        #expect(connection.pendingOutputBytes <= hardLimit)
                    }
                })
            }
            defer { listener.close() }
            let clientLog = EventLog()
            let client = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try Certs.client()) { _ in
                RecordingHandler(log: clientLog, keepBytes: false, onOpen: { $0.pauseReading() })
            }
            #expect(await eventually { serverLog.closes.count == 1 })
            #expect(refusedWrites.load(ordering: .relaxed) == 1)
            let (reports, maxPending) = serverLog.read { ($0.limitReports, $0.maxPending) }
            #expect(reports == 1)
            #expect(maxPending > options.outputHighWaterMark && maxPending <= options.outputHardLimit)
            guard case .outputLimitExceeded(let pending)? = serverLog.closes.first else {
                Issue.record("expected outputLimitExceeded, got \(serverLog.closes)")
                return
            }
            #expect(pending <= options.outputHardLimit)
            client.execute { client.close() }
            #expect(await eventually { clientLog.closes.count == 1 })
        }

        /// A fast writer whose peer reads slowly is paused (backpressure) and resumed, losing nothing.
        @Test func backpressurePausesAndResumesReading() async throws {
            var options = ConnectionOptions()
            options.outputHighWaterMark = 64 << 10
            options.outputLowWaterMark = 16 << 10
            options.outputHardLimit = 512 << 10
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try Certs.server(), log: serverLog, options: options, keepBytes: false)
            defer { listener.close() }
            let total = 16 << 20
            let clientLog = EventLog()
            let chunk = [UInt8](repeating: 0x62, count: 32 << 10)
            let sentBytes = Atomic<Int>(0)
            final class Pump: @unchecked Sendable {
                var connection: Connection?
            }
            let pump = Pump()
            @Sendable func push() {
                guard let connection = pump.connection else { return }
                // Write until our own buffer is above high water; continue when it drains.
                while sentBytes.load(ordering: .relaxed) < total && connection.isWritable {
                    guard connection.write(chunk) else { return }
                    sentBytes.add(chunk.count, ordering: .relaxed)
                    connection.flush()
                }
            }
            final class PumpHandler: ConnectionHandler, @unchecked Sendable {
                let inner: RecordingHandler
                let push: @Sendable () -> Void
                init(inner: RecordingHandler, push: @escaping @Sendable () -> Void) {
                    self.inner = inner
                    self.push = push
                }
                func connectionDidOpen(_ connection: Connection) { push() }
                func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
                    inner.connection(connection, didRead: bytes)
                }
                func connectionDidBecomeWritable(_ connection: Connection) { push() }
                func connectionDidClose(_ connection: Connection, reason: CloseReason) {
                    inner.connectionDidClose(connection, reason: reason)
                }
            }
            let client = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try Certs.client(), options: options) { connection in
                pump.connection = connection
                return PumpHandler(inner: RecordingHandler(log: clientLog, keepBytes: false), push: push)
            }
            #expect(await eventually(.seconds(20)) { clientLog.byteCount == total })
            #expect(serverLog.closes.isEmpty && clientLog.closes.isEmpty)
            let (maxPending, pauses) = serverLog.read { ($0.maxPending, $0.backpressurePauses) }
            #expect(maxPending <= options.outputHardLimit)
            #expect(pauses > 0, "the server never paused reading")
            client.execute { client.close() }
        }
    }
}
