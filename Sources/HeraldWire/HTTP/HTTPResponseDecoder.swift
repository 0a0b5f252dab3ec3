/// Incremental decoder for the responses Herald's HTTP client receives.
///
/// Contract: the connection that owns it (one serial queue; not thread-safe) calls
/// `expectResponse(to:)` with the method of every request it sends, in sending order (the decoder
/// needs it: a response to HEAD has no body whatever its headers say; 204, 304 and 1xx never do),
/// feeds received bytes with `append` and calls `next()` until it returns nil. Interim 1xx responses
/// (but 101) are skipped. A response with neither Content-Length nor chunked coding runs to the close
/// of the connection: at EOF call `finish()`, which returns it (and throws `truncated` when a response
/// was cut off). An `HTTPError` is final: drop the connection.
///
/// The same limits as the request side bound what a server can make the client buffer
/// (`maxBodyBytes` applies to declared and read-to-close bodies alike).
public struct HTTPResponseDecoder: Sendable {
    var parser: HTTPMessageParser
    /// Methods of the requests sent and not yet answered, oldest first.
    var methods: [String] = []
    var methodIndex = 0

    public init(limits: HTTPLimits = .default) {
        parser = HTTPMessageParser(role: .response, limits: limits)
    }

    public var limits: HTTPLimits { parser.limits }

    /// Records that a request with `method` was sent; its response is the next unanswered one.
    public mutating func expectResponse(to method: String) {
        // Drop answered methods once they are the larger half, so a connection that always has a
        // request in flight does not grow the list (amortised O(1)).
        if methodIndex > 0, methodIndex * 2 >= methods.count {
            methods.removeFirst(methodIndex)
            methodIndex = 0
        }
        methods.append(method)
    }

    public mutating func append(_ bytes: [UInt8]) { parser.append(bytes[...]) }
    public mutating func append(_ bytes: ArraySlice<UInt8>) { parser.append(bytes) }
    public mutating func append(_ bytes: UnsafeRawBufferPointer) { parser.append(bytes) }

    public var bufferedByteCount: Int { parser.buffer.unconsumedCount }

    /// True while the current response's body runs to the close of the connection.
    public var isReadingUntilClose: Bool { parser.isReadingUntilClose }

    /// The next complete response, or nil when more bytes are needed. A response with no recorded
    /// request is taken as the answer to a GET.
    public mutating func next() throws(HTTPError) -> HTTPResponse? {
        let method = methodIndex < methods.count ? methods[methodIndex] : "GET"
        let message = try parser.next { start in
            guard case .status(_, let status, _) = start else { return false }
            return HTTPResponse.isBodyless(status: status) || method == "HEAD"
        }
        guard let message else { return nil }
        return took(message)
    }

    /// At end of input (after `next()` returned nil): the response whose body ran to the close, nil
    /// if none was pending; throws `truncated` when a response was cut off.
    public mutating func finish() throws(HTTPError) -> HTTPResponse? {
        guard let message = try parser.finish() else { return nil }
        return took(message)
    }

    mutating func took(_ message: HTTPMessageParser.Message) -> HTTPResponse {
        if methodIndex < methods.count { methodIndex += 1 }
        guard case .status(let version, let status, let reason) = message.start else {
            return HTTPResponse(status: 0, reason: "")
        }
        return HTTPResponse(version: version, status: status, reason: reason, headers: message.headers, body: message.body, trailers: message.trailers)
    }
}
