/// Why an HTTP exchange produced no response. A response of any status (3xx, 429, 500…) is not an
/// error: it comes back as a response.
public struct HTTPClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The request cannot be encoded (header injection, bad method or target).
        case invalidRequest
        /// Name resolution or the TCP connect failed (refused, unreachable, timed out).
        case connectFailed
        /// The TLS handshake failed: untrusted certificate, wrong host name, protocol mismatch.
        case tlsHandshakeFailed
        /// No complete response within the response timeout.
        case timeout
        /// The server closed the connection before the response was complete.
        case connectionClosed
        /// The response is not valid HTTP/1.1.
        case invalidResponse
        /// The response's headers or body are larger than the client's limits.
        case responseTooLarge
        /// The client was shut down.
        case shutDown
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
