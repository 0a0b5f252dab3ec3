import Foundation
import HeraldTestSupport
@testable import HeraldNet
import Synchronization
import Testing

extension NetTests {
    @Suite struct MisbehavingPeers {
        @Test(arguments: ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\u{16}\u{03}\u{01}\u{00}\u{05}garbage-after-a-record-header"])
        func garbageBeforeHandshakeIsAHandshakeError(garbage: String) async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try TestTLS.server(), log: serverLog)
            defer { listener.close() }
            let raw = try PlainSocket(port: listener.port)
            raw.send(garbage)
            #expect(raw.waitForServerClose(timeout: .seconds(5)))
            #expect(await eventually { serverLog.closes.count == 1 })
            guard case .handshakeFailed(let text)? = serverLog.closes.first else {
                Issue.record("expected handshakeFailed, got \(serverLog.closes)")
                return
            }
            #expect(!text.isEmpty)
            #expect(serverLog.opened == 0)

            // The server keeps serving others.
            let clientLog = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client()) { _ in
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
            let listener = try Listener.echo(tls: try TestTLS.server(), log: serverLog, options: options)
            defer { listener.close() }
            let started = ContinuousClock.now
            let raw = try PlainSocket(port: listener.port)
            #expect(raw.waitForServerClose(timeout: .seconds(5)))
            // Not before the timeout (timers never fire early; no upper bound, which only measures the
            // machine's load: the wait gives up after 5 s, and the timer's decision is unit-tested in
            // ConnectionStateMachineBehaviour).
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(250), "dropped after \(elapsed)")
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
            _ = try Connection.connect(host: "127.0.0.1", port: stuck.port, tls: try TestTLS.client(), options: options) { _ in
                RecordingHandler(log: log)
            }
            #expect(await eventually { log.closes == [.handshakeTimeout] })

            // Nothing listens on a closed port: connect fails with the errno text.
            let closed = try Listener(port: 0, tls: nil) { _ in nil }
            let port = closed.port
            closed.close()
            #expect(await eventually { (try? PlainSocket(port: port)) == nil }, "the closed listener's port still accepts")
            let refusedLog = EventLog()
            do {
                _ = try Connection.connect(host: "127.0.0.1", port: port, tls: try TestTLS.client()) { _ in
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
            let listener = try Listener(port: 0, tls: try TestTLS.server(), options: options) { _ in
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
            let client = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client()) { _ in
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

        /// A peer stops reading while frames queue up, then the owner hangs up with final bytes
        /// (a fatal error frame). Whatever the split point — inside a frame, inside a TLS record a
        /// WANT_WRITE retry owes, frames longer than a record — the peer reads whole, consecutive
        /// frames (the one partly sent is finished, unstarted ones are dropped), then exactly the
        /// final bytes, then EOF. A peer that keeps sending meanwhile (CREDIT, PING) must not
        /// cost it the tail: closing with its bytes unread would send RST and drop unsent data.
        @Test(arguments: [(true, 4099, false), (true, 70_001, true), (false, 4099, true), (false, 333, false)])
        func closeAfterFinalBytesEndsOnAFrameBoundary(tls: Bool, frameSize: Int, peerKeepsSending: Bool) async throws {
            let serverLog = EventLog()
            let serverConnection = Mutex<Connection?>(nil)
            let listener = try Listener(port: 0, tls: tls ? try TestTLS.server() : nil) { connection in
                serverConnection.withLock { $0 = connection }
                return RecordingHandler(log: serverLog)
            }
            defer { listener.close() }
            let clientLog = EventLog()
            let clientPaused = Atomic<Bool>(false)
            let client = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: tls ? try TestTLS.client() : nil) { _ in
                RecordingHandler(log: clientLog, onOpen: { connection in
                    connection.pauseReading()
                    clientPaused.store(true, ordering: .releasing)
                })
            }
            #expect(await eventually { clientPaused.load(ordering: .acquiring) && serverLog.opened == 1 })
            let server = try #require(serverConnection.withLock { $0 })

            @Sendable func frame(_ number: Int) -> [UInt8] {
                let digits = Array(String(number).utf8)
                var bytes = Array("F".utf8) + [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits
                bytes.append(UInt8(ascii: ":"))
                bytes += [UInt8](repeating: UInt8(ascii: "a") + UInt8(number % 26), count: frameSize - bytes.count - 1)
                bytes.append(UInt8(ascii: "\n"))
                return bytes
            }
            let final = Array("ERR SlowConsumer - you stopped reading\r\n".utf8)
            struct Split: Sendable { var written = 0, pending = 0, midFrame = false, pinned = 0, refusedAfter = false }
            let split = Mutex<Split?>(nil)
            server.execute {
                var record = Split()
                // Frames one write call each, until the socket pushed back and output queued up.
                while server.pendingOutputBytes < 256 << 10 && record.written < 100_000 {
                    server.write(frame(record.written))
                    record.written += 1
                    server.flush()
                }
                record.pending = server.pendingOutputBytes
                record.midFrame = server.output.isMidCall
                record.pinned = server.pendingTLSWriteLength
                server.close(after: final, grace: .seconds(20), reason: .protocolError("hung up"))
                record.refusedAfter = !server.write(frame(0))
                split.withLock { $0 = record }
            }
            #expect(await eventually { split.withLock { $0 } != nil })
            let record = try #require(split.withLock { $0 })
            #expect(record.pending >= 256 << 10)
            #expect(record.refusedAfter, "nothing is written after the final bytes")
            if tls {
                // TLS consumes whole 16 KB records, never a multiple of these frame sizes: the
                // output was split inside a frame, or a record is owed to a retry.
                #expect(record.midFrame || record.pinned > 0, "\(record)")
            }

            client.execute {
                if peerKeepsSending {
                    client.write([UInt8](repeating: UInt8(ascii: "P"), count: 64 << 10))
                    client.flush()
                }
                client.resumeReading()
            }
            #expect(await eventually(.seconds(20)) { clientLog.closes.count == 1 && serverLog.closes.count == 1 })
            #expect(clientLog.closes == [.peerClosed])
            #expect(serverLog.closes == [.protocolError("hung up")])

            let bytes = clientLog.read { $0.bytes }
            var offset = 0
            var received = 0
            while bytes.count - offset >= frameSize, Array(bytes[offset..<offset + frameSize]) == frame(received) {
                offset += frameSize
                received += 1
            }
            #expect(Array(bytes[offset...]) == final,
                    "after \(received) whole frames: \(bytes.count - offset) bytes that are not the final ones (\(record))")
            #expect(received > 0 && received < record.written, "\(received) of \(record.written) frames; unstarted ones dropped")
        }

        /// A client that pipelines while not reading: the server's output passes its high-water
        /// mark, so it stops reading the client (backpressure); once the client reads again,
        /// everything is delivered and nothing is lost or disconnected.
        @Test func backpressurePausesAndResumesReading() async throws {
            var options = ConnectionOptions()
            options.outputHighWaterMark = 64 << 10
            options.outputLowWaterMark = 16 << 10
            options.outputHardLimit = 512 << 10
            let serverLog = EventLog()
            let serverConnection = Mutex<Connection?>(nil)
            let listener = try Listener(port: 0, tls: try TestTLS.server(), options: options) { connection in
                serverConnection.withLock { $0 = connection }
                return RecordingHandler(log: serverLog, echo: true, keepBytes: false)
            }
            defer { listener.close() }
            let total = 32 << 20
            let clientLog = EventLog()
            let chunk = [UInt8](repeating: 0x62, count: 32 << 10)
            final class Pump: ConnectionHandler, @unchecked Sendable {
                let inner: RecordingHandler
                let chunk: [UInt8]
                let total: Int
                var sent = 0
                init(inner: RecordingHandler, chunk: [UInt8], total: Int) {
                    self.inner = inner
                    self.chunk = chunk
                    self.total = total
                }
                /// Writes while our own buffer is below high water; continues when it drains.
                func push(_ connection: Connection) {
                    while sent < total && connection.isWritable {
                        guard connection.write(chunk) else { return }
                        sent += chunk.count
                        connection.flush()
                    }
                }
                func connectionDidOpen(_ connection: Connection) {
                    connection.pauseReading()  // read nothing until the test says so
                    push(connection)
                }
                func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
                    inner.connection(connection, didRead: bytes)
                }
                func connectionDidBecomeWritable(_ connection: Connection) { push(connection) }
                func connectionDidClose(_ connection: Connection, reason: CloseReason) {
                    inner.connectionDidClose(connection, reason: reason)
                }
            }
            let client = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client(), options: options) { _ in
                Pump(inner: RecordingHandler(log: clientLog, keepBytes: false), chunk: chunk, total: total)
            }
            let pendingWhenPaused = Atomic<Int>(-1)
            let serverPaused = await eventually(.seconds(20)) {
                if let connection = serverConnection.withLock({ $0 }) {
                    connection.execute {
                        if connection.readPausedByBackpressure {
                            pendingWhenPaused.store(connection.pendingOutputBytes, ordering: .relaxed)
                        }
                    }
                }
                return pendingWhenPaused.load(ordering: .relaxed) >= 0
            }
            #expect(serverPaused, "the server never paused reading")
            let pending = pendingWhenPaused.load(ordering: .relaxed)
            #expect(pending > options.outputLowWaterMark && pending <= options.outputHardLimit, "\(pending)")
            client.execute { client.resumeReading() }
            let delivered = await eventually(.seconds(10)) { clientLog.byteCount == total }
            #expect(delivered)
            if !delivered, let server = serverConnection.withLock({ $0 }) {
                let states = Mutex<[String]>([])
                server.execute { states.withLock { $0.append("server: " + server.debugState) } }
                client.execute { states.withLock { $0.append("client: " + client.debugState) } }
                _ = await eventually { states.withLock { $0.count } == 2 }
                let stalledAt = clientLog.byteCount
                _ = await eventually(.milliseconds(500)) { clientLog.byteCount != stalledAt }  // moving at all?
                server.execute { states.withLock { $0.append("server: " + server.debugState) } }
                client.execute { states.withLock { $0.append("client: " + client.debugState) } }
                _ = await eventually { states.withLock { $0.count } == 4 }
                Issue.record("stalled at \(clientLog.byteCount) of \(total): \(states.withLock { $0 })")
            }
            #expect(serverLog.closes.isEmpty && clientLog.closes.isEmpty)
            #expect(serverLog.read { $0.maxPending } <= options.outputHardLimit)
            client.execute { client.close() }
        }
    }
}
