/// Incremental decoder for the requests a client sends to Herald's HTTP server.
///
/// Contract: the connection that owns it (one serial queue; not thread-safe) feeds every received
/// byte with `append`, then calls `next()` until it returns nil; several pipelined requests in one
/// read come out one after another, and bytes after a request wait for the next call. An
/// `HTTPError` is final: answer `error.status` with `Connection: close` and close (the decoder keeps
/// rethrowing it). At EOF call `finish()`: it throws `truncated` if a request was cut off.
///
/// ```swift
/// decoder.append(chunk)
/// do {
///     while let request = try decoder.next() { respond(to: request, keepAlive: request.keepAlive) }
/// } catch {
///     respond(status: error.status, close: true)
/// }
/// ```
/// Limits (`HTTPLimits`) are enforced before bytes are buffered for what they bound: a request line
/// over `maxLineBytes` is 414, headers over their limits 431, a Content-Length or chunk size past
/// `maxBodyBytes` 413 as soon as it is read. Chunked bodies are de-chunked (extensions ignored,
/// trailers kept in `trailers`); Transfer-Encoding with Content-Length, or any coding but `chunked`,
/// is refused. Not handled here: `Expect: 100-continue` (the server decides whether to send 100).
public struct HTTPRequestDecoder: Sendable {
    var parser: HTTPMessageParser

    public init(limits: HTTPLimits = .default) {
        parser = HTTPMessageParser(role: .request, limits: limits)
    }

    public var limits: HTTPLimits { parser.limits }

    public mutating func append(_ bytes: [UInt8]) { parser.append(bytes[...]) }
    public mutating func append(_ bytes: ArraySlice<UInt8>) { parser.append(bytes) }
    public mutating func append(_ bytes: UnsafeRawBufferPointer) { parser.append(bytes) }

    /// Bytes received and not yet consumed (the parsed lines of a request still incomplete are consumed).
    public var bufferedByteCount: Int { parser.buffer.unconsumedCount }

    /// True between requests with no byte of the next one received: an idle-timeout close is clean.
    public var isIdle: Bool { parser.isIdle }

    /// The next complete request, or nil when more bytes are needed.
    public mutating func next() throws(HTTPError) -> HTTPRequest? {
        guard let message = try parser.next(bodyless: { _ in false }) else { return nil }
        guard case .request(let method, let target, let version) = message.start else { return nil }
        return HTTPRequest(method: method, target: target, version: version, headers: message.headers, body: message.body, trailers: message.trailers)
    }

    /// At end of input: throws `truncated` when part of a request is buffered.
    public mutating func finish() throws(HTTPError) {
        _ = try parser.finish()
    }
}
