/// Why bytes are not a valid HTTP/1.1 message, a message cannot be encoded, or a URL or form body is
/// invalid — with the status a server should answer.
///
/// HTTP framing cannot be resynchronised after a bad message, so a decoder that throws one stays
/// failed (every later `next()` throws it again): the server answers `status` with
/// `Connection: close` and closes; a client drops the connection.
/// (A type of its own rather than `WireError`: it carries an HTTP status, the stream codes do not.)
public struct HTTPError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The request line or status line does not have the RFC 9112 form.
        case malformedStartLine
        /// The method is not a token or the request-target has characters it may not have.
        case invalidTarget
        /// The request line is longer than `maxLineBytes` (414).
        case uriTooLong
        /// A status line or chunk-size line is longer than `maxLineBytes`.
        case lineTooLong
        /// `HTTP/x.y` is well formed but not HTTP/1.x (505).
        case unsupportedVersion
        /// A header line without a colon, with a name that is not a token, or a value with control bytes.
        case malformedHeader
        /// A header line starting with a space or tab (obs-fold, RFC 9112 §5.2).
        case obsoleteLineFolding
        /// An HTTP/1.1 request without exactly one Host header (RFC 9112 §3.2).
        case missingHost
        /// One header line or all of them together exceed the limits (431).
        case headersTooLarge
        /// More header (or trailer) fields than `maxHeaderCount` (431).
        case tooManyHeaders
        /// Content-Length is not one decimal number, or is repeated.
        case invalidContentLength
        /// Both Transfer-Encoding and Content-Length (RFC 9112 §6.3: a smuggling vector).
        case conflictingFraming
        /// A transfer coding other than `chunked` alone (501).
        case unsupportedTransferCoding
        /// A chunk-size line that is not hexadecimal or overflows, or chunk data not followed by CRLF.
        case malformedChunk
        /// The body is, or is declared to be, larger than `maxBodyBytes` (413).
        case bodyTooLarge
        /// The input ended inside a message.
        case truncated
        /// The encoder was given a header name, value, method, target or reason that would break the
        /// message (CR, LF, NUL, spaces in a token…): header injection is refused.
        case invalidField
        /// Not an `http(s)://` URL Herald can reach.
        case invalidURL
        /// A percent-escape that is not `%XX`, or bytes that are not UTF-8 after decoding.
        case invalidEncoding
    }

    public var code: Code
    public var message: String
    /// Byte offset in the decoded stream where the problem was noticed (0 outside decoders).
    public var offset: Int

    public init(_ code: Code, _ message: String, offset: Int = 0) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    /// The status a server answers when a request fails with this error.
    public var status: Int {
        switch code {
        case .uriTooLong: return 414
        case .headersTooLarge, .tooManyHeaders: return 431
        case .bodyTooLarge: return 413
        case .unsupportedTransferCoding: return 501
        case .unsupportedVersion: return 505
        default: return 400
        }
    }

    public var description: String { "\(code.rawValue) (\(status)) at byte \(offset): \(message)" }
}
