// The operator log end to end: a real Server on loopback TLS with a capturing JSON log handler;
// each misbehaving client must leave exactly one line with its peer address and the reason.
import Foundation
import HeraldConfig
import HeraldCore
import HeraldNet
import HeraldTestSupport
import HeraldWire
import Logging
import Synchronization
import Testing
@testable import HeraldServer

/// Log lines captured as parsed JSON objects (the real `LineLogHandler` in JSON format).
final class CapturedLog: Sendable {
    private let lines = Collector<String>()
    let events: ServerEventLog

    init(level: Logger.Level = .info) {
        let lines = self.lines
        let handler = LineLogHandler(format: .json, level: level, sink: { line in lines.append(line) })
        events = ServerEventLog(logger: Logger(label: "test", factory: { _ in handler }))
    }

    var objects: [[String: Any]] {
        lines.all.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    var rawLines: [String] { lines.all }

    func lines(event: String) -> [[String: Any]] { objects.filter { $0["event"] as? String == event } }

    /// Waits until a line of `event` was logged; returns every such line.
    func waitFor(_ event: String, timeout: Duration = .seconds(10)) -> [[String: Any]] {
        _ = waitUntil(timeout) { !lines(event: event).isEmpty }
        return lines(event: event)
    }
}

extension Integration {
    @Suite struct Logs {
        static func server(log: CapturedLog, _ configure: (inout HeraldConfig) -> Void = { _ in }) throws -> (Server, Int) {
            var config = TestServer.baseConfig()
            configure(&config)
            let server = Server(config: config, events: log.events)
            try server.start()
            return (server, try #require(server.listenAddresses.first).port)
        }

        @Test func startUpIsOneLineNamingTheListener() throws {
            let log = CapturedLog()
            let (server, port) = try Self.server(log: log)
            defer { server.stop() }
            let started = log.lines(event: "started")
            #expect(started.count == 1)
            #expect(started.first?["listen"] as? String == "127.0.0.1:\(port)")
            #expect(started.first?["msg"] as? String == "herald started")
            #expect(!log.rawLines.contains { $0.contains("listening on") }, "no second, near-identical line: \(log.rawLines)")
        }

        @Test func aPlainTCPClientLogsAHandshakeFailureWithItsAddressAndOpenSSLsReason() throws {
            let log = CapturedLog()
            let (server, port) = try Self.server(log: log)
            defer { server.stop() }
            let socket = try PlainSocket(port: port)
            defer { socket.close() }
            socket.send("PUB orders 5\r\nhello\r\n")  // (a CONNECT first line reads to OpenSSL as an "https proxy request")
            #expect(socket.waitForServerClose(timeout: .seconds(10)))
            let lines = log.waitFor("handshake_failed")
            #expect(lines.count == 1, "\(log.rawLines)")
            #expect(lines.first?["level"] as? String == "warning")
            #expect((lines.first?["reason"] as? String)?.contains("wrong version number") == true, "\(lines)")
            #expect((lines.first?["peer"] as? String)?.hasPrefix("127.0.0.1:") == true)
        }

        @Test func aClientTrustingAnotherCALogsAHandshakeFailure() throws {
            let directory = makeTemporaryDirectory("herald-log-otherca")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let script = try ChildProcess.run(TestPaths.certs + "/make-dev-certs.sh", [directory])
            try #require(script.status == 0, "make-dev-certs.sh: \(script.output)")
            let log = CapturedLog()
            let (server, port) = try Self.server(log: log)
            defer { server.stop() }
            let tls = try TestTLS.client(ca: directory + "/dev-ca.pem")
            #expect(throws: (any Error).self) {
                let connection = try BlockingConnection.connect(host: "127.0.0.1", port: port, tls: tls, timeout: .seconds(10))
                connection.close()
            }
            let lines = log.waitFor("handshake_failed")
            #expect(lines.count == 1, "\(log.rawLines)")
            let reason = lines.first?["reason"] as? String ?? ""
            #expect(reason.contains("unknown ca") || reason.contains("certificate"), "\(reason)")
        }

        @Test func aClientThatNeverSpeaksLogsAHandshakeTimeout() throws {
            let log = CapturedLog()
            let (server, port) = try Self.server(log: log) { $0.timeouts.handshake = .milliseconds(300) }
            defer { server.stop() }
            let socket = try PlainSocket(port: port)
            defer { socket.close() }
            #expect(socket.waitForServerClose(timeout: .seconds(10)))
            let lines = log.waitFor("handshake_timeout")
            #expect(lines.count == 1, "\(log.rawLines)")
            #expect((lines.first?["peer"] as? String)?.hasPrefix("127.0.0.1:") == true)
            #expect(log.lines(event: "handshake_failed").isEmpty)
        }

        @Test func aMalformedFrameLogsAProtocolErrorWithTheFrameError() throws {
            let log = CapturedLog()
            let (server, port) = try Self.server(log: log)
            defer { server.stop() }
            let raw = try RawClient(port: port)
            defer { raw.close() }
            try raw.handshake()
            try raw.send("BOGUS frame\r\n")
            _ = raw.readUntilClosed()
            let lines = log.waitFor("protocol_error")
            #expect(lines.count == 1, "\(log.rawLines)")
            #expect((lines.first?["reason"] as? String)?.contains("BOGUS") == true, "\(lines)")
            #expect(lines.first?["user"] as? String == "anonymous")
        }

        @Test func anAuthFailureIsLoggedWithoutTheToken() throws {
            let log = CapturedLog()
            let (server, port) = try Self.server(log: log) { config in
                config.auth = HeraldConfig.Auth(allowAnonymous: false, users: [HeraldConfig.User(name: "writer", token: "writer-token")])
            }
            defer { server.stop() }
            let raw = try RawClient(port: port)
            defer { raw.close() }
            guard case .info? = try raw.next() else { Issue.record("no INFO"); return }
            try raw.send(.connect(ConnectOptions(token: "not-a-real-token-s3cret")))
            #expect(raw.readUntilClosed().compactMap(\.errorFrame).map(\.code) == [.authenticationFailed])
            let lines = log.waitFor("auth_failed")
            #expect(lines.count == 1, "\(log.rawLines)")
            #expect(lines.first?["reason"] as? String == "unknown token")
            #expect(!log.rawLines.contains { $0.contains("s3cret") }, "the token never reaches the log")
            #expect(log.lines(event: "protocol_error").isEmpty && log.lines(event: "connect_refused").isEmpty, "one line, not two")
        }

        @Test func aScanIsRateLimitedToOneSummary() throws {
            let log = CapturedLog()
            let (server, port) = try Self.server(log: log)
            defer { server.stop() }
            for _ in 0..<60 {
                let socket = try PlainSocket(port: port)
                socket.send("hello\r\n")
                _ = socket.waitForServerClose(timeout: .seconds(5))
                socket.close()
            }
            // The summary follows at the end of each window in which lines were dropped.
            func counts() -> (written: Int, suppressed: Int) {
                (log.lines(event: "handshake_failed").count, log.lines(event: "suppressed").compactMap { $0["suppressed"] as? Int }.reduce(0, +))
            }
            _ = waitUntil(.seconds(10)) { counts().written + counts().suppressed == 60 }
            let (written, suppressed) = counts()
            #expect(written < 60, "a scan does not write one line per connection")
            #expect(written + suppressed == 60, "every dropped event is counted: \(written) written, \(suppressed) suppressed")
        }
    }
}
