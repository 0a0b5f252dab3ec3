import Foundation
import HeraldTestSupport
@testable import HeraldNet
import Synchronization
import Testing

extension NetTests {
    @Suite struct Lifecycle {
        @Test func closeIsIdempotentAndReportedOnce() async throws {
            let serverLog = EventLog()
            let listener = try Listener(port: 0, tls: try TestTLS.server()) { _ in
                RecordingHandler(log: serverLog, onOpen: { connection in
                    connection.close(.protocolError("bad frame"))
                    connection.close(.closedByOwner)
                    connection.close(.idleTimeout)
                    #expect(connection.closeReason == .protocolError("bad frame"))
                    #expect(!connection.write(Array("late".utf8)))
                })
            }
            defer { listener.close() }
            let clientLog = EventLog()
            let client = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client()) { _ in
                RecordingHandler(log: clientLog)
            }
            #expect(await eventually { serverLog.closes.count == 1 && clientLog.closes.count == 1 })
            client.execute {
                client.close()
                client.close(.protocolError("again"))
            }
            // Instead of sleeping: one pass through every loop's queue (both connections run on the
            // shared group), after the calls above and after anything their closes had queued.
            let loops = EventLoopGroup.shared.loops
            let passed = Atomic<Int>(0)
            for loop in loops { loop.execute { passed.add(1, ordering: .relaxed) } }
            #expect(await eventually { passed.load(ordering: .relaxed) == loops.count })
            #expect(serverLog.closes == [.protocolError("bad frame")])
            #expect(clientLog.closes == [.peerClosed])
        }

        @Test func closingMidHandshakeIsSafe() async throws {
            let serverLog = EventLog()
            let listener = try Listener(port: 0, tls: try TestTLS.server()) { connection in
                // Closed right after the handshake started (runs after start()).
                connection.execute { connection.close(.protocolError("changed my mind")) }
                return RecordingHandler(log: serverLog)
            }
            defer { listener.close() }
            let clients = 20
            let clientLog = EventLog()
            for i in 0..<clients {
                let connection = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client()) { _ in
                    RecordingHandler(log: clientLog)
                }
                if i % 2 == 0 { connection.execute { connection.close() } }  // client side mid-connect too
            }
            #expect(await eventually { clientLog.closes.count == clients })
            #expect(await eventually { listener.activeConnections == 0 })
            #expect(serverLog.opened == 0)
        }

        @Test func rejectedAndOverLimitConnectionsAreClosed() async throws {
            let serverLog = EventLog()
            let listener = try Listener(port: 0, tls: nil, maxConnections: 2) { _ in
                RecordingHandler(log: serverLog)
            }
            defer { listener.close() }
            let sockets = try (0..<3).map { _ in try PlainSocket(port: listener.port) }
            #expect(await eventually { listener.rejectedConnections == 1 && listener.activeConnections == 2 })
            #expect(sockets[2].waitForServerClose(timeout: .seconds(5)))
            _ = sockets

            let rejecting = try Listener(port: 0, tls: nil) { _ in nil }
            defer { rejecting.close() }
            let raw = try PlainSocket(port: rejecting.port)
            #expect(raw.waitForServerClose(timeout: .seconds(5)))
            #expect(await eventually { rejecting.activeConnections == 0 })
        }

        /// 1,000 idle TLS connections are accepted and held, then dropped by the idle timeout;
        /// every descriptor is released.
        @Test func thousandIdleConnectionsAreDroppedAndFdsReleased() async throws {
            let baseline = openFileDescriptorCount()  // for the fd limit only; counts below are per port
            var serverOptions = ConnectionOptions()
            serverOptions.handshakeTimeout = .seconds(20)
            let serverLog = EventLog()
            let accepted = Mutex<[Connection]>([])
            let listener = try Listener(port: 0, tls: try TestTLS.server(), options: serverOptions) { connection in
                accepted.withLock { $0.append(connection) }
                return RecordingHandler(log: serverLog, echo: true)
            }
            var clientOptions = ConnectionOptions()
            clientOptions.handshakeTimeout = .seconds(20)
            let clientLog = EventLog()
            // Each side of each connection holds 1 fd; raise the soft limit if it is low (CI).
            var limit = rlimit()
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            if limit.rlim_cur < 8192 && limit.rlim_max > limit.rlim_cur {
                limit.rlim_cur = min(limit.rlim_max, 8192)
                setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            }
            let count = min(1000, (Int(limit.rlim_cur) - baseline - 100) / 2)
            #expect(count == 1000, "fd limit \(limit.rlim_cur) allows only \(count) connections")
            for i in 0..<count {
                _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client(),
                                           options: clientOptions) { _ in RecordingHandler(log: clientLog) }
                if i % 100 == 99 {  // stay under the backlog: let the listener catch up
                    #expect(await eventually(.seconds(20)) { listener.acceptedConnections > i - 100 })
                }
            }
            #expect(await eventually(.seconds(20)) { serverLog.opened == count && clientLog.opened == count })
            #expect(listener.activeConnections == count)
            let peak = connectionDescriptorCount(port: listener.port)
            #expect(peak == 2 * count, "fds at peak: \(peak) for \(count) connections (both ends in-process)")

            // Now let them idle out.
            for connection in accepted.withLock({ $0 }) {
                connection.execute { connection.idleTimeout = .milliseconds(300) }
            }
            accepted.withLock { $0.removeAll() }
            #expect(await eventually(.seconds(10)) { serverLog.closes.count == count && clientLog.closes.count == count })
            #expect(serverLog.closes.allSatisfy { $0 == .idleTimeout })
            #expect(clientLog.closes.allSatisfy { $0 == .peerClosed })
            #expect(await eventually { listener.activeConnections == 0 })
            let port = listener.port
            listener.close()
            #expect(await eventually { connectionDescriptorCount(port: port) == 0 }, "fds: \(connectionDescriptorCount(port: port))")
        }

        /// One descriptor per connection on each side (no dup for the write source), so the
        /// open-files limit holds as many clients as it says. The server runs in this process, so
        /// /proc/self/fd counts both ends: 2 per client.
        @Test func eachConnectionHoldsOneDescriptor() async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try TestTLS.server(), log: serverLog)
            defer { listener.close() }
            let clientLog = EventLog()
            var clients: [Connection] = []
            func connect() throws {
                clients.append(try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client()) { _ in
                    RecordingHandler(log: clientLog)
                })
            }
            // One connection first (dispatch creates its own descriptors with the first sources).
            try connect()
            #expect(await eventually { serverLog.opened == 1 && clientLog.opened == 1 })
            let count = 20
            for _ in 0..<count { try connect() }
            #expect(await eventually { serverLog.opened == count + 1 && clientLog.opened == count + 1 })
            // Every connection is open and has written (TLS handshake) and read, so both of its
            // sources are registered. Counted per port: other suites' descriptors do not count.
            let held = connectionDescriptorCount(port: listener.port)
            #expect(held == 2 * (count + 1), "\(held) fds for \(count + 1) connections (both ends in-process)")
            for client in clients { client.execute { client.close() } }
            #expect(await eventually { serverLog.closes.count == count + 1 && clientLog.closes.count == count + 1 })
            #expect(await eventually { connectionDescriptorCount(port: listener.port) == 0 },
                    "fds: \(connectionDescriptorCount(port: listener.port))")
        }

        @Test func idleCallbackLetsTheOwnerSendHeartbeats() async throws {
            final class Heartbeat: ConnectionHandler, @unchecked Sendable {
                let pings = Atomic<Int>(0)
                func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
                func connectionDidBecomeIdle(_ connection: Connection, idleFor: Duration) {
                    if pings.add(1, ordering: .relaxed).newValue >= 3 {
                        connection.close(.idleTimeout)
                    } else {
                        connection.write(Array("PING\r\n".utf8))
                        connection.flush()
                    }
                }
                func connectionDidClose(_ connection: Connection, reason: CloseReason) {}
            }
            let heartbeat = Heartbeat()
            var options = ConnectionOptions()
            options.idleTimeout = .milliseconds(100)
            let listener = try Listener(port: 0, tls: try TestTLS.server(), options: options) { _ in heartbeat }
            defer { listener.close() }
            let clientLog = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client()) { _ in
                RecordingHandler(log: clientLog)
            }
            #expect(await eventually { clientLog.closes.count == 1 })
            #expect(clientLog.read { String(decoding: $0.bytes, as: UTF8.self) } == "PING\r\nPING\r\n")
            #expect(heartbeat.pings.load(ordering: .relaxed) == 3)
        }

        @Test func groupUsesAFixedPoolRoundRobin() {
            let group = EventLoopGroup(loopCount: 3)
            let picked = (0..<6).map { _ in group.next().index }
            #expect(picked == [0, 1, 2, 0, 1, 2])
            #expect(EventLoopGroup.shared.loops.count == Net.coreCount)
            let loop = group.loops[1]
            #expect(!loop.inEventLoop)
            #expect(loop.queue.sync { loop.inEventLoop })
        }
    }
}
