/// The state machine behind `HTTPRequestDecoder` and `HTTPResponseDecoder`: start line, header
/// lines, then the body framed by Content-Length, chunked coding or (responses only) connection close.
///
/// Bytes are fed with `append`; `next()` consumes them as far as they go and returns one complete
/// message's parts, or nil when more bytes are needed. Every limit is checked as soon as the bytes or
/// the declaration that break it are seen (a Content-Length or chunk size over `maxBodyBytes` before
/// a body byte is buffered), so the result never depends on how the input was chunked. Bytes after a
/// message stay buffered for the next one (pipelining). The first error is kept: later calls rethrow it.
struct HTTPMessageParser: Sendable {
    enum Role: Sendable { case request, response }

    /// A parsed start line.
    enum StartLine: Sendable, Hashable {
        case request(method: String, target: String, version: HTTPVersion)
        case status(version: HTTPVersion, status: Int, reason: String)

        var version: HTTPVersion {
            switch self {
            case .request(_, _, let version), .status(let version, _, _): return version
            }
        }
    }

    /// A complete message, before the wrapper turns it into `HTTPRequest` / `HTTPResponse`.
    struct Message: Sendable {
        var start: StartLine
        var headers: HTTPHeaders
        var body: [UInt8]
        var trailers: HTTPHeaders
    }

    enum State: Sendable {
        case startLine
        case headers
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    let role: Role
    let limits: HTTPLimits
    var buffer = FrameBuffer()
    var failure: HTTPError?
    var state = State.startLine
    var start: StartLine?
    var headers = HTTPHeaders()
    var trailers = HTTPHeaders()
    /// Bytes of the header (or trailer) section read so far, against `maxHeaderBytes`.
    var sectionBytes = 0
    var body: [UInt8] = []

    init(role: Role, limits: HTTPLimits) {
        self.role = role
        self.limits = limits
    }

    mutating func append(_ bytes: ArraySlice<UInt8>) { buffer.append(bytes) }
    mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer.append(bytes) }

    /// True between messages with nothing buffered: the peer may close here cleanly.
    var isIdle: Bool {
        if case .startLine = state, buffer.unconsumedCount == 0 { return true }
        return false
    }

    var isReadingUntilClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// The next complete message; `bodyless(start)` tells a response parser that this message has no
    /// body whatever its headers say (HEAD, 1xx, 204, 304).
    mutating func next(bodyless: (StartLine) -> Bool) throws(HTTPError) -> Message? {
        if let failure { throw failure }
        do {
            return try step(bodyless: bodyless)
        } catch {
            failure = error
            throw error
        }
    }

    /// At end of input: the message read to close, nil when idle, `truncated` inside a message.
    mutating func finish() throws(HTTPError) -> Message? {
        if let failure { throw failure }
        if isReadingUntilClose, let start {
            return complete(start)
        }
        if isIdle { return nil }
        let error = HTTPError(.truncated, "input ended inside a message (\(buffer.unconsumedCount) bytes pending)", offset: buffer.streamOffset(buffer.readIndex))
        failure = error
        throw error
    }

    mutating func step(bodyless: (StartLine) -> Bool) throws(HTTPError) -> Message? {
        while true {
            switch state {
            case .startLine:
                let tooLong: HTTPError.Code = role == .request ? .uriTooLong : .lineTooLong
                guard let line = try line(maxLength: limits.maxLineBytes, tooLong: tooLong, what: role == .request ? "request line" : "status line")
                else { return nil }
                if line.isEmpty { continue }  // RFC 9112 §2.2: empty lines before a request line are ignored
                start = try parseStartLine(line)
                headers = HTTPHeaders()
                sectionBytes = 0
                state = .headers
            case .headers:
                guard let added = try fieldLine(trailer: false) else { return nil }
                if added { continue }
                guard let start else { return nil }
                if case .status(_, let status, _) = start, (100..<200).contains(status), status != 101 {
                    state = .startLine  // an interim response: the final one follows
                    continue
                }
                if bodyless(start) { return complete(start) }
                try beginBody(start)
                if case .headers = state { return complete(start) }
            case .fixedBody(let remaining):
                let left = takeBody(upTo: remaining)
                if left > 0 {
                    state = .fixedBody(remaining: left)
                    return nil
                }
                guard let start else { return nil }
                return complete(start)
            case .chunkSize:
                guard let line = try line(maxLength: limits.maxLineBytes, tooLong: .lineTooLong, what: "chunk-size line") else { return nil }
                let size = try parseChunkSize(line)
                guard size <= limits.maxBodyBytes - body.count else {
                    throw HTTPError(.bodyTooLarge, "chunked body exceeds the limit of \(limits.maxBodyBytes) bytes", offset: buffer.streamOffset(line.lowerBound))
                }
                if size == 0 {
                    trailers = HTTPHeaders()
                    sectionBytes = 0
                    state = .trailers
                } else {
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let left = takeBody(upTo: remaining)
                if left > 0 {
                    state = .chunkData(remaining: left)
                    return nil
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                let index = buffer.readIndex
                guard index < buffer.bytes.count else { return nil }
                if buffer.bytes[index] == HTTPSyntax.lf {
                    buffer.readIndex += 1
                } else if buffer.bytes[index] == HTTPSyntax.cr {
                    guard index + 1 < buffer.bytes.count else { return nil }
                    guard buffer.bytes[index + 1] == HTTPSyntax.lf else { throw missingChunkEnd(index) }
                    buffer.readIndex += 2
                } else {
                    throw missingChunkEnd(index)
                }
                buffer.scanIndex = buffer.readIndex
                state = .chunkSize
            case .trailers:
                guard let added = try fieldLine(trailer: true) else { return nil }
                if added { continue }
                guard let start else { return nil }
                return complete(start)
            case .untilClose:
                let available = buffer.unconsumedCount
                guard available <= limits.maxBodyBytes - body.count else {
                    throw HTTPError(.bodyTooLarge, "body read to close exceeds the limit of \(limits.maxBodyBytes) bytes", offset: buffer.streamOffset(buffer.readIndex))
                }
                _ = takeBody(upTo: available)
                return nil
            }
        }
    }

    /// Hands out the finished message and gets ready for the next one.
    mutating func complete(_ start: StartLine) -> Message {
        let message = Message(start: start, headers: headers, body: body, trailers: trailers)
        self.start = nil
        headers = HTTPHeaders()
        trailers = HTTPHeaders()
        body = []
        state = .startLine
        return message
    }

    /// Copies up to `remaining` buffered body bytes; returns how many are still to come.
    mutating func takeBody(upTo remaining: Int) -> Int {
        let count = min(remaining, buffer.unconsumedCount)
        if count > 0 {
            body.append(contentsOf: buffer.bytes[buffer.readIndex..<(buffer.readIndex + count)])
            buffer.readIndex += count
            buffer.scanIndex = buffer.readIndex
        }
        return remaining - count
    }

    func missingChunkEnd(_ index: Int) -> HTTPError {
        HTTPError(.malformedChunk, "chunk data is not followed by CRLF", offset: buffer.streamOffset(index))
    }

    /// The next line's range (without CR LF), consumed; nil until a whole line is buffered.
    mutating func line(maxLength: Int, tooLong: HTTPError.Code, what: String) throws(HTTPError) -> Range<Int>? {
        do {
            return try buffer.nextLine(maxLength: maxLength)
        } catch {
            throw HTTPError(tooLong, "\(what) longer than \(maxLength) bytes", offset: error.offset)
        }
    }

    /// Reads one header (or trailer) line into `headers` (`trailers`): true when a field was added,
    /// false at the blank line ending the section, nil when more bytes are needed.
    mutating func fieldLine(trailer: Bool) throws(HTTPError) -> Bool? {
        let what = trailer ? "trailer" : "header"
        let budget = limits.maxHeaderBytes - sectionBytes
        let before = buffer.readIndex
        let range: Range<Int>?
        do {
            range = try buffer.nextLine(maxLength: min(limits.maxLineBytes, max(budget, 0)))
        } catch {
            let message = budget < limits.maxLineBytes
                ? "\(what) section longer than \(limits.maxHeaderBytes) bytes" : "\(what) line longer than \(limits.maxLineBytes) bytes"
            throw HTTPError(.headersTooLarge, message, offset: error.offset)
        }
        guard let range else { return nil }
        sectionBytes += buffer.readIndex - before
        if range.isEmpty { return false }
        guard (trailer ? trailers.count : headers.count) < limits.maxHeaderCount else {
            throw HTTPError(.tooManyHeaders, "more than \(limits.maxHeaderCount) \(what) fields", offset: buffer.streamOffset(range.lowerBound))
        }
        let field = try parseField(range)
        if trailer { trailers.append(field) } else { headers.append(field) }
        return true
    }

    /// `name: value` with the value trimmed; obs-fold, whitespace before the colon, non-token names
    /// and control bytes in the value are refused.
    func parseField(_ range: Range<Int>) throws(HTTPError) -> HTTPField {
        let bytes = buffer.bytes
        let offset = buffer.streamOffset(range.lowerBound)
        if HTTPSyntax.isWhitespace(bytes[range.lowerBound]) {
            throw HTTPError(.obsoleteLineFolding, "header line starts with whitespace (obsolete line folding is not accepted)", offset: offset)
        }
        guard let colon = bytes[range].firstIndex(of: UInt8(ascii: ":")) else {
            throw HTTPError(.malformedHeader, "header line has no colon", offset: offset)
        }
        let name = bytes[range.lowerBound..<colon]
        guard HTTPSyntax.isToken(name) else {
            throw HTTPError(.malformedHeader, "header name '\(Self.snippet(name))' is not a token", offset: offset)
        }
        var valueStart = colon + 1, valueEnd = range.upperBound
        while valueStart < valueEnd, HTTPSyntax.isWhitespace(bytes[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, HTTPSyntax.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        let value = bytes[valueStart..<valueEnd]
        guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else {
            throw HTTPError(.malformedHeader, "value of header '\(Self.snippet(name))' contains a control byte", offset: offset)
        }
        return HTTPField(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    // MARK: Start lines

    func parseStartLine(_ range: Range<Int>) throws(HTTPError) -> StartLine {
        let line = buffer.bytes[range]
        let offset = buffer.streamOffset(range.lowerBound)
        switch role {
        case .request:
            // method SP request-target SP HTTP-version, single spaces.
            let parts = line.split(separator: HTTPSyntax.sp, omittingEmptySubsequences: false)
            guard parts.count == 3 else {
                throw HTTPError(.malformedStartLine, "request line '\(Self.snippet(line))' is not 'METHOD TARGET HTTP/1.1'", offset: offset)
            }
            guard HTTPSyntax.isToken(parts[0]) else {
                throw HTTPError(.invalidTarget, "method '\(Self.snippet(parts[0]))' is not a token", offset: offset)
            }
            guard !parts[1].isEmpty, parts[1].allSatisfy(HTTPSyntax.isTargetByte) else {
                throw HTTPError(.invalidTarget, "request-target is empty or has bytes other than visible ASCII", offset: offset)
            }
            let version = try Self.parseVersion(parts[2], offset: offset)
            return .request(method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self), version: version)
        case .response:
            // HTTP-version SP 3DIGIT SP [reason]; a missing SP before an empty reason is tolerated.
            let parts = line.split(separator: HTTPSyntax.sp, maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2 else {
                throw HTTPError(.malformedStartLine, "status line '\(Self.snippet(line))' is not 'HTTP/1.1 CODE REASON'", offset: offset)
            }
            let version = try Self.parseVersion(parts[0], offset: offset)
            guard parts[1].count == 3, let status = HTTPSyntax.decimal(parts[1]), status >= 100 else {
                throw HTTPError(.malformedStartLine, "status code '\(Self.snippet(parts[1]))' is not three digits from 100", offset: offset)
            }
            let reason = parts.count == 3 ? parts[2] : []
            guard reason.allSatisfy(HTTPSyntax.isFieldValueByte) else {
                throw HTTPError(.malformedStartLine, "reason phrase contains a control byte", offset: offset)
            }
            return .status(version: version, status: status, reason: String(decoding: reason, as: UTF8.self))
        }
    }

    /// `HTTP/DIGIT.DIGIT`; a well-formed version other than 1.x is `unsupportedVersion` (505).
    static func parseVersion(_ bytes: ArraySlice<UInt8>, offset: Int) throws(HTTPError) -> HTTPVersion {
        let text = Array(bytes)
        guard text.count == 8, text[0..<5].elementsEqual("HTTP/".utf8), text[6] == UInt8(ascii: "."),
            let major = HTTPSyntax.decimal(text[5...5]), let minor = HTTPSyntax.decimal(text[7...7])
        else {
            throw HTTPError(.malformedStartLine, "'\(snippet(bytes))' is not an HTTP version", offset: offset)
        }
        guard major == 1 else {
            throw HTTPError(.unsupportedVersion, "HTTP/\(major).\(minor) is not supported (HTTP/1.1 is)", offset: offset)
        }
        return HTTPVersion(major: major, minor: minor)
    }

    // MARK: Body framing (RFC 9112 §6.3)

    /// Chooses how the body is delimited; leaves `state` at `.headers` when there is no body.
    mutating func beginBody(_ start: StartLine) throws(HTTPError) {
        let offset = buffer.streamOffset(buffer.readIndex)
        if case .request(_, _, let version) = start, version.minor >= 1, headers.values(for: "Host").count != 1 {
            throw HTTPError(.missingHost, "an HTTP/1.1 request needs exactly one Host header", offset: offset)
        }
        let lengths = headers.values(for: "Content-Length")
        if headers.contains("Transfer-Encoding") {
            guard lengths.isEmpty else {
                throw HTTPError(.conflictingFraming, "both Transfer-Encoding and Content-Length are present", offset: offset)
            }
            let codings = headers.listTokens("Transfer-Encoding")
            guard codings.count == 1, HTTPHeaders.namesEqual(codings[0], "chunked") else {
                throw HTTPError(.unsupportedTransferCoding, "transfer coding '\(codings.joined(separator: ", "))' is not supported (only chunked)", offset: offset)
            }
            state = .chunkSize
            return
        }
        if !lengths.isEmpty {
            guard lengths.count == 1 else {
                throw HTTPError(.invalidContentLength, "Content-Length appears \(lengths.count) times", offset: offset)
            }
            guard let length = HTTPSyntax.decimal(lengths[0].utf8) else {
                throw HTTPError(.invalidContentLength, "Content-Length '\(lengths[0].prefix(32))' is not one decimal number", offset: offset)
            }
            guard length <= limits.maxBodyBytes else {
                throw HTTPError(.bodyTooLarge, "Content-Length \(length) exceeds the limit of \(limits.maxBodyBytes) bytes", offset: offset)
            }
            if length > 0 {
                body.reserveCapacity(length)
                state = .fixedBody(remaining: length)
            }
            return
        }
        if role == .response { state = .untilClose }
    }

    /// `1*HEXDIG [ BWS ; chunk-ext ]`: extensions are ignored, sizes are overflow-checked.
    func parseChunkSize(_ range: Range<Int>) throws(HTTPError) -> Int {
        let bytes = buffer.bytes
        var index = range.lowerBound
        var size = 0
        while index < range.upperBound, let digit = HTTPSyntax.hexValue(bytes[index]) {
            let (times16, overflow1) = size.multipliedReportingOverflow(by: 16)
            let (sum, overflow2) = times16.addingReportingOverflow(digit)
            if overflow1 || overflow2 {
                throw HTTPError(.malformedChunk, "chunk size overflows", offset: buffer.streamOffset(range.lowerBound))
            }
            size = sum
            index += 1
        }
        guard index > range.lowerBound else {
            throw HTTPError(.malformedChunk, "chunk size '\(Self.snippet(bytes[range]))' is not hexadecimal", offset: buffer.streamOffset(range.lowerBound))
        }
        while index < range.upperBound, HTTPSyntax.isWhitespace(bytes[index]) { index += 1 }
        guard index == range.upperBound || bytes[index] == UInt8(ascii: ";") else {
            throw HTTPError(.malformedChunk, "chunk size '\(Self.snippet(bytes[range]))' is not hexadecimal", offset: buffer.streamOffset(range.lowerBound))
        }
        return size
    }

    /// The first bytes of a field, for quoting in an error message.
    static func snippet(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes.prefix(32), as: UTF8.self) }
}
