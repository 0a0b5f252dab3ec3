// What the client makes of servers that are down, slow, broken or not who they claim to be.
import HeraldHTTP
import HeraldNet
import HeraldTestSupport
import HeraldWire
import Testing

@Suite struct HTTPClientFailureTests {
    private func code(_ result: Result<HTTPResponse, HTTPClientError>) -> HTTPClientError.Code? {
        if case .failure(let error) = result { return error.code }
        return nil
    }

    @Test func connectRefusedIsConnectFailed() async throws {
        let refusing = try RefusingPort()
        defer { refusing.close() }
        let client = try HTTPTest.client()
        let url = try HTTPTest.url("http://127.0.0.1:\(refusing.port)/")
        let result = await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: HTTPTest.patience)
        #expect(code(result) == .connectFailed)
    }

    @Test func slowServerHitsTheResponseTimeout() async throws {
        // The answer would come after 120 s: `.timeout` can only be the 300 ms timeout's doing.
        let receiver = try HTTPTest.receiver(script: [.init(status: 200, delay: .seconds(120))])
        let client = try HTTPTest.client()
        let (result, elapsed) = await HTTPTest.timedSend(client, HTTPRequest(method: "GET", target: "/"),
                                                         to: try HTTPTest.url(receiver.url()), timeout: .milliseconds(300))
        #expect(code(result) == .timeout)
        // Reported between 300 and 600 ms (one check period late at most); measured on the callback
        // queue, so a stall of the test process does not count, and the bound is generous for a busy machine.
        #expect(elapsed < .seconds(10))
    }

    @Test func closeMidResponseIsAnError() async throws {
        let receiver = try HTTPTest.receiver(script: [.init(status: 200, body: Array(repeating: 0x61, count: 1000), closeAfterBytes: 60)])
        let client = try HTTPTest.client()
        let result = await client.send(HTTPRequest(method: "GET", target: "/"), to: try HTTPTest.url(receiver.url()), timeout: HTTPTest.patience)
        #expect(code(result) == .connectionClosed)
    }

    @Test func closeBeforeAnyResponseIsAnError() async throws {
        let receiver = try HTTPTest.receiver(script: [.init(status: 200, closeAfterBytes: 0)])
        let client = try HTTPTest.client()
        let result = await client.send(HTTPRequest(method: "GET", target: "/"), to: try HTTPTest.url(receiver.url()), timeout: HTTPTest.patience)
        #expect(code(result) == .connectionClosed)
    }

    @Test(arguments: [
        ("GET", HTTPClient.StaleConnectionRetry.idempotentOnly, true),
        ("POST", .idempotentOnly, false),
        ("POST", .always, true),
        ("GET", .never, false),
    ])
    func pooledConnectionClosedBeforeAnsweringIsRetriedOncePerPolicy(
        method: String, policy: HTTPClient.StaleConnectionRetry, retried: Bool
    ) async throws {
        // Answer, then drop the reused connection without a byte, then answer on a new one. Client
        // and server keep idle connections for minutes: the second request meets the pooled one
        // however long the test stalls between the two.
        let receiver = try HTTPTest.receiver(script: [.init(status: 200), .init(status: 200, closeAfterBytes: 0), .init(status: 202)])
        let client = try HTTPTest.client { $0.staleConnectionRetry = policy }
        let url = try HTTPTest.url(receiver.url())
        _ = try await client.send(HTTPRequest(method: method, target: "/"), to: url, timeout: HTTPTest.patience).get()
        let second = await client.send(HTTPRequest(method: method, target: "/"), to: url, timeout: HTTPTest.patience)
        #expect(client.connectionsOpened == (retried ? 2 : 1))
        if retried {
            #expect((try? second.get().status) == 202)
            #expect(receiver.requestCount == 3)
            #expect(receiver.acceptedConnections == 2)
        } else {
            #expect(code(second) == .connectionClosed)
            #expect(receiver.requestCount == 2)
        }
    }

    @Test func hugeResponseIsRefused() async throws {
        let receiver = try HTTPTest.receiver(script: [.init(status: 200, body: Array(repeating: 0x62, count: 100_000))])
        let client = try HTTPTest.client { $0.limits = HTTPLimits(maxBodyBytes: 10_000) }
        let result = await client.send(HTTPRequest(method: "GET", target: "/"), to: try HTTPTest.url(receiver.url()), timeout: HTTPTest.patience)
        #expect(code(result) == .responseTooLarge)
        #expect(client.idleConnections(to: try HTTPTest.url(receiver.url())) == 0)
    }

    @Test func certificateForAnotherHostIsRefused() async throws {
        let receiver = try HTTPTest.receiver(tls: true)
        // Reaches the right server, but under a name its certificate does not carry.
        let client = try HTTPTest.client { $0.addressOverrides = ["wrong.example": "127.0.0.1"] }
        let result = await client.send(HTTPRequest(method: "GET", target: "/"),
                                       to: try HTTPTest.url("https://wrong.example:\(receiver.port)/"), timeout: HTTPTest.patience)
        #expect(code(result) == .tlsHandshakeFailed)
        #expect(receiver.requestCount == 0)
        // The same override with a name the certificate has works: the failure was the name.
        let good = try HTTPTest.client { $0.addressOverrides = ["localhost": "127.0.0.1"] }
        let ok = await good.send(HTTPRequest(method: "GET", target: "/"),
                                 to: try HTTPTest.url("https://localhost:\(receiver.port)/"), timeout: HTTPTest.patience)
        #expect((try? ok.get().status) == 200)
    }

    @Test func tlsHandshakeThatNeverFinishesHitsTheConnectTimeout() async throws {
        // A plain TCP listener that accepts and never speaks TLS.
        let silent = try Listener(port: 0, tls: nil) { _ in SilentHandler() }
        let client = try HTTPTest.client { $0.connectTimeout = .milliseconds(300) }
        // The listener never closes and the request timeout starts only once connected, so a
        // handshake failure is the connect timeout's doing.
        let (result, elapsed) = await HTTPTest.timedSend(client, HTTPRequest(method: "GET", target: "/"),
                                                         to: try HTTPTest.url("https://127.0.0.1:\(silent.port)/"), timeout: HTTPTest.patience)
        #expect(code(result) == .tlsHandshakeFailed)
        // The configured 300 ms, not the 10 s default: measured on the callback queue (a stall of the
        // test process does not count), generous for a busy machine.
        #expect(elapsed < .seconds(8))
        silent.close()
    }

    @Test func bodyReadToTheCloseIsAResponseAndTheConnectionIsNotReused() async throws {
        // An HTTP/1.0-style server: no Content-Length, the close ends the body.
        let server = try Listener(port: 0, tls: nil) { _ in
            ScriptedRawHandler(reply: Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end".utf8))
        }
        let client = try HTTPTest.client()
        let url = try HTTPTest.url("http://127.0.0.1:\(server.port)/")
        let response = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: HTTPTest.patience).get()
        #expect(response.body == Array("until the end".utf8))
        #expect(client.idleConnections(to: url) == 0)
        server.close()
    }

    @Test func garbageResponseIsInvalid() async throws {
        let server = try Listener(port: 0, tls: nil) { _ in ScriptedRawHandler(reply: Array("SMTP ready\r\n\r\n".utf8)) }
        let client = try HTTPTest.client()
        let result = await client.send(HTTPRequest(method: "GET", target: "/"),
                                       to: try HTTPTest.url("http://127.0.0.1:\(server.port)/"), timeout: HTTPTest.patience)
        #expect(code(result) == .invalidResponse)
        server.close()
    }

    @Test func untrustedCertificateIsRefused() async throws {
        let receiver = try HTTPTest.receiver(tls: true)
        let client = try HTTPClient()  // the system trust store does not hold the dev CA
        let result = await client.send(HTTPRequest(method: "GET", target: "/"), to: try HTTPTest.url(receiver.url()), timeout: HTTPTest.patience)
        #expect(code(result) == .tlsHandshakeFailed)
    }

    @Test func headerInjectionIsRefusedBeforeSending() async throws {
        let receiver = try HTTPTest.receiver()
        let client = try HTTPTest.client()
        let request = HTTPRequest(method: "GET", target: "/", headers: ["X-Evil": "a\r\nInjected: yes"])
        let result = await client.send(request, to: try HTTPTest.url(receiver.url()), timeout: HTTPTest.patience)
        #expect(code(result) == .invalidRequest)
        #expect(client.connectionsOpened == 0)
    }
}

/// Accepts and ignores everything (never answers).
final class SilentHandler: ConnectionHandler, @unchecked Sendable {
    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {}
    func connectionDidClose(_ connection: Connection, reason: CloseReason) {}
}

/// Answers the first bytes it reads with `reply`, then closes.
final class ScriptedRawHandler: ConnectionHandler, @unchecked Sendable {
    let reply: [UInt8]
    private var replied = false

    init(reply: [UInt8]) { self.reply = reply }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        guard !replied else { return }
        replied = true
        connection.write(reply)
        connection.closeWhenFlushed()
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {}
}
