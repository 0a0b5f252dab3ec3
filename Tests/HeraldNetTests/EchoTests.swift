import Foundation
import HeraldTestSupport
@testable import HeraldNet
import Synchronization
import Testing

extension NetTests {
    @Suite struct Echo {
        @Test(arguments: ["127.0.0.1", "::1"])
        func tlsEchoRoundTrip(host: String) async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try TestTLS.server(), log: serverLog, host: host)
            defer { listener.close() }
            #expect(listener.port > 0)
            let clientLog = EventLog()
            let client = try Connection.connect(host: host, port: listener.port, tls: try TestTLS.client()) { _ in
                RecordingHandler(log: clientLog, onOpen: { connection in
                    connection.write(Array("hello, herald".utf8))
                    connection.flush()
                })
            }
            #expect(await eventually { clientLog.byteCount == 13 })
            #expect(clientLog.read { String(decoding: $0.bytes, as: UTF8.self) } == "hello, herald")
            #expect(clientLog.read { $0.tlsVersions } == ["TLSv1.3"])
            #expect(serverLog.read { $0.peerNames } == [nil])
            client.execute { client.close() }
            #expect(await eventually { clientLog.closes == [.closedByOwner] && serverLog.closes == [.peerClosed] })
            #expect(await eventually { listener.activeConnections == 0 })
        }

        @Test func inPlaceWritesAndWritability() async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try TestTLS.server(), log: serverLog)
            defer { listener.close() }
            let clientLog = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client()) { _ in
                RecordingHandler(log: clientLog, onOpen: { connection in
                    #expect(connection.isWritable && connection.pendingOutputBytes == 0)
                    let ok = connection.write(reservingCapacity: 64) { raw in
                        let text = Array("encoded in place".utf8)
                        raw.copyBytes(from: text)
                        return text.count
                    }
                    #expect(ok)
                    #expect(connection.pendingOutputBytes == 16)
                    connection.flush()
                    #expect(connection.pendingOutputBytes == 0)
                })
            }
            #expect(await eventually { clientLog.byteCount == 16 })
            #expect(clientLog.read { String(decoding: $0.bytes, as: UTF8.self) } == "encoded in place")
        }

        @Test func plainTCPEcho() async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: nil, log: serverLog)
            defer { listener.close() }
            let clientLog = EventLog()
            _ = try Connection.connect(host: "localhost", port: listener.port, tls: nil) { _ in
                RecordingHandler(log: clientLog, onOpen: { connection in
                    connection.write(Array("plain".utf8))
                    connection.flush()
                    connection.close()  // orderly close sends pending output first
                })
            }
            #expect(await eventually { serverLog.byteCount == 5 && serverLog.closes.count == 1 })
            #expect(serverLog.read { String(decoding: $0.bytes, as: UTF8.self) } == "plain")
        }

        /// 200,000 pipelined 16-byte messages in one go; the server echoes per read batch.
        @Test func pipelinedMessagesAreCoalesced() async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try TestTLS.server(), log: serverLog, keepBytes: false)
            defer { listener.close() }
            let count = 200_000
            var payload = [UInt8]()
            payload.reserveCapacity(count * 16)
            for i in 0..<count {
                var value = UInt64(i).bigEndian
                withUnsafeBytes(of: &value) { payload.append(contentsOf: $0) }
                payload.append(contentsOf: Array("herald!\n".utf8))
            }
            let sent = payload
            let clientLog = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client()) { _ in
                RecordingHandler(log: clientLog, onOpen: { connection in
                    // Many small writes, one flush: they leave as a few large TLS records.
                    sent.withUnsafeBytes { raw in
                        var offset = 0
                        while offset < raw.count {
                            connection.write(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 16]))
                            offset += 16
                        }
                    }
                    connection.flush()
                })
            }
            #expect(await eventually(.seconds(20)) { clientLog.byteCount == sent.count })
            #expect(clientLog.read { $0.bytes } == sent)
            let batches = serverLog.read { $0.batches }
            #expect(batches > 0 && batches < count / 10, "server echoed in \(batches) batches")
        }

        /// A flush of several TLS records corks the socket (full segments, not one per record) and
        /// uncorks it before returning: a socket left corked would hold its last partial segment
        /// back (up to 200 ms, then for good once nothing more is written).
        @Test func aMultiRecordFlushLeavesTheSocketUncorked() async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try TestTLS.server(), log: serverLog)
            defer { listener.close() }
            let sent = (0..<(5 * Connection.maxTLSWriteLength + 7)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let corkAfterFlush = Mutex<Int32?>(nil)
            let clientLog = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client()) { _ in
                RecordingHandler(log: clientLog, onOpen: { connection in
                    _ = sent.withUnsafeBytes { connection.write($0) }
                    connection.flush()
                    var value: Int32 = -1
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    let got = getsockopt(connection.fd, Int32(IPPROTO_TCP), TCP_CORK, &value, &length)
                    corkAfterFlush.withLock { $0 = got == 0 ? value : nil }
                })
            }
            // The echo server's flushes of what it read are corked the same way.
            #expect(await eventually(.seconds(20)) { clientLog.byteCount == sent.count })
            #expect(clientLog.read { $0.bytes } == sent)
            #expect(corkAfterFlush.withLock { $0 } == 0, "TCP_CORK is off once the flush returns")
        }

        @Test func mutualTLSRequired() async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try TestTLS.server(clientCA: TestPaths.ca, policy: .required), log: serverLog)
            defer { listener.close() }

            // Without a certificate: refused with OpenSSL's reason.
            let anonymousLog = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client()) { _ in
                RecordingHandler(log: anonymousLog, onOpen: { connection in
                    connection.write(Array("x".utf8))
                    connection.flush()
                })
            }
            #expect(await eventually { serverLog.closes.count == 1 && anonymousLog.closes.count == 1 })
            let serverReason = serverLog.closes.first
            guard case .handshakeFailed(let text)? = serverReason else {
                Issue.record("expected handshakeFailed, got \(String(describing: serverReason))")
                return
            }
            #expect(text.contains("certificate"), "\(text)")
            #expect(anonymousLog.closes.first?.isError == true)
            #expect(serverLog.opened == 0)

            // With the dev client certificate: accepted, and the server sees its CN.
            let authenticatedLog = EventLog()
            let client = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client(withCertificate: true)) { _ in
                RecordingHandler(log: authenticatedLog, onOpen: { connection in
                    connection.write(Array("hi".utf8))
                    connection.flush()
                })
            }
            #expect(await eventually { authenticatedLog.byteCount == 2 })
            #expect(serverLog.read { $0.peerNames } == ["dev-client"])
            client.execute { client.close() }
        }

        @Test func mutualTLSOptional() async throws {
            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try TestTLS.server(clientCA: TestPaths.ca, policy: .optional), log: serverLog)
            defer { listener.close() }
            for withCertificate in [false, true] {
                let log = EventLog()
                _ = try Connection.connect(host: "127.0.0.1", port: listener.port,
                                           tls: try TestTLS.client(withCertificate: withCertificate)) { _ in
                    RecordingHandler(log: log, onOpen: { connection in
                        connection.write(Array("ok".utf8))
                        connection.flush()
                    })
                }
                #expect(await eventually { log.byteCount == 2 })
            }
            #expect(serverLog.read { $0.peerNames } == [nil, "dev-client"])
        }

        @Test func wrongCAAndWrongNameAreRefused() async throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-otherca-\(UUID())")
            defer { try? FileManager.default.removeItem(at: dir) }
            let script = Process()
            script.executableURL = URL(fileURLWithPath: TestPaths.certs + "/make-dev-certs.sh")
            script.arguments = [dir.path]
            script.standardOutput = FileHandle.nullDevice
            try script.run()
            script.waitUntilExit()
            #expect(script.terminationStatus == 0)

            let serverLog = EventLog()
            let listener = try Listener.echo(tls: try TestTLS.server(), log: serverLog)
            defer { listener.close() }

            let wrongCALog = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: listener.port,
                                       tls: try TestTLS.client(ca: dir.path + "/dev-ca.pem")) { _ in
                RecordingHandler(log: wrongCALog)
            }
            #expect(await eventually { wrongCALog.closes.count == 1 })
            guard case .handshakeFailed(let text)? = wrongCALog.closes.first else {
                Issue.record("expected handshakeFailed, got \(wrongCALog.closes)")
                return
            }
            #expect(text.contains("certificate verify failed"), "\(text)")
            #expect(wrongCALog.opened == 0)

            let wrongNameLog = EventLog()
            _ = try Connection.connect(host: "127.0.0.1", port: listener.port, tls: try TestTLS.client(),
                                       serverName: "example.com") { _ in
                RecordingHandler(log: wrongNameLog)
            }
            #expect(await eventually { wrongNameLog.closes.count == 1 })
            guard case .handshakeFailed(let nameText)? = wrongNameLog.closes.first else {
                Issue.record("expected handshakeFailed, got \(wrongNameLog.closes)")
                return
            }
            #expect(nameText.contains("hostname mismatch"), "\(nameText)")
        }
    }
}
