// Shared pieces of the HTTP tests: a client trusting the dev CA, and a raw socket reader that
// decodes what a server sends (for pipelining and malformed-request tests, which a well-behaved
// client cannot produce).
//
// Stalls: in a full `swift test` run on 2 cores, an async test can wait a minute between two
// awaits (the cooperative pool is busy with other tests), while HeraldNet's event loops, and so
// every timer of a client or server, keep running. Hence: idle limits of minutes wherever a test
// expects a connection to stay, timeouts of a minute wherever a timeout is not what is tested, and
// durations measured on the callback queue (`timedSend`), not across an await.
import Foundation
import HeraldHTTP
import HeraldNet
import HeraldTestSupport
import HeraldWire

enum HTTPTest {
    /// Idle limit of test clients and servers: far beyond any stall, so a pooled connection stays
    /// until the test ends (the eviction test sets its own).
    static let longIdle: Duration = .seconds(600)
    /// Request timeout, and bound on waits, where the timeout is not what is tested: answers come
    /// within milliseconds, this only ends a broken test.
    static let patience: Duration = .seconds(60)

    /// A client trusting the dev CA whose idle connections stay pooled for `longIdle`.
    static func client(_ configure: (inout HTTPClient.Configuration) -> Void = { _ in }) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.caFile = TestPaths.ca
        configuration.idleConnectionTimeout = longIdle
        configure(&configuration)
        return try HTTPClient(configuration: configuration)
    }

    /// A TestHTTPReceiver that keeps idle connections open for `longIdle`.
    static func receiver(tls: Bool = false, script: [TestHTTPReceiver.Step] = [],
                         fallback: TestHTTPReceiver.Step = .init()) throws -> TestHTTPReceiver {
        try TestHTTPReceiver(tls: tls, script: script, fallback: fallback) { $0.idleTimeout = longIdle }
    }

    /// Sends `request` and measures from the call to the completion on the client's callback
    /// queue: no cooperative-pool scheduling in between, so a stalled test process does not count.
    static func timedSend(_ client: HTTPClient, _ request: HTTPRequest, to url: HTTPURL, timeout: Duration) async
        -> (result: Result<HTTPResponse, HTTPClientError>, elapsed: Duration)
    {
        await withCheckedContinuation { continuation in
            let started = ContinuousClock.now
            client.send(request, to: url, timeout: timeout) { result in
                continuation.resume(returning: (result, ContinuousClock.now - started))
            }
        }
    }

    static func url(_ text: String) throws -> HTTPURL { try HTTPURL(text) }

    /// Reads from `socket` until `count` responses are decoded (HEAD-free GETs), the peer closes, or
    /// `timeout` passes. Returns the responses and whether the peer closed.
    static func readResponses(_ socket: PlainSocket, count: Int, timeout: Duration = .seconds(5)) -> (responses: [HTTPResponse], closed: Bool) {
        var decoder = HTTPResponseDecoder()
        var responses: [HTTPResponse] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        let deadline = ContinuousClock.now + timeout
        while responses.count < count && ContinuousClock.now < deadline {
            var poller = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let n = recv(socket.fd, &buffer, buffer.count, 0)
            if n <= 0 { return (responses, true) }
            decoder.append(buffer[0..<n])
            while let response = try? decoder.next() { responses.append(response) }
        }
        return (responses, false)
    }
}

/// Answers to hand out later (a handler that holds its responders).
final class HeldResponders: @unchecked Sendable {
    private let lock = NSLock()
    private var held: [(HTTPRequest, HTTPServerResponder)] = []

    func add(_ request: HTTPRequest, _ responder: HTTPServerResponder) {
        lock.withLock { held.append((request, responder)) }
    }

    var count: Int { lock.withLock { held.count } }
    var all: [(HTTPRequest, HTTPServerResponder)] { lock.withLock { held } }
}
