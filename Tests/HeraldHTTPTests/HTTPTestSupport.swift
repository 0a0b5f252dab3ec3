// Shared pieces of the HTTP tests: a client trusting the dev CA, and a raw socket reader that
// decodes what a server sends (for pipelining and malformed-request tests, which a well-behaved
// client cannot produce).
import Foundation
import HeraldHTTP
import HeraldNet
import HeraldTestSupport
import HeraldWire

enum HTTPTest {
    static func client(_ configure: (inout HTTPClient.Configuration) -> Void = { _ in }) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.caFile = TestPaths.ca
        configure(&configuration)
        return try HTTPClient(configuration: configuration)
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

    /// A port nothing listens on: bound once, then released.
    static func closedPort() throws -> Int {
        let listener = try Listener(port: 0, tls: nil) { _ in nil }
        let port = listener.port
        listener.close()
        return port
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
