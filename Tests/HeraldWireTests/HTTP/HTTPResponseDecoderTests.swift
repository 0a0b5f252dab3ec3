import Testing
@testable import HeraldWire

@Suite struct HTTPResponseDecoderTests {
    /// Answers to GET, DELETE, POST (chunked), HEAD (length but no body), GET (304), POST (100 then
    /// 200), and a last GET answered by an HTTP/1.0 response read to the close.
    static let methods = ["GET", "DELETE", "POST", "HEAD", "GET", "POST", "GET"]
    static let stream = bytes(
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"
            + "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
            + "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nContent-Length: 42\r\n\r\n"
            + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"
            + "HTTP/1.0 500 Server Error\r\nServer: x\r\n\r\nto the close\r\n")

    static let expected: [HTTPDecoded<HTTPResponse>] = [
        .message(HTTPResponse(status: 200, reason: "OK", headers: ["Content-Length": "5", "X-A": "1"], body: bytes("hello"))),
        .message(HTTPResponse(status: 204, reason: "No Content", headers: ["Content-Length": "7"])),
        .message(HTTPResponse(status: 201, reason: "Created", headers: ["Transfer-Encoding": "chunked"], body: bytes("abc0123456789"), trailers: ["T": "v"])),
        .message(HTTPResponse(status: 200, reason: "OK", headers: ["Content-Length": "100"])),
        .message(HTTPResponse(status: 304, reason: "Not Modified", headers: ["Content-Length": "42"])),
        .message(HTTPResponse(status: 200, reason: "", headers: ["Content-Length": "0"])),
        .message(HTTPResponse(version: .http10, status: 500, reason: "Server Error", headers: ["Server": "x"], body: bytes("to the close\r\n"))),
    ]

    @Test func pipelinedResponsesDecodeOneAfterAnother() {
        #expect(decodeResponses(Self.stream, methods: Self.methods) == Self.expected)
    }

    @Test func everySplitPointGivesTheSameResponses() {
        for chunks in splits(Self.stream) {
            let got = decodeResponses(chunks: chunks, methods: Self.methods)
            #expect(got == Self.expected, "chunking \(chunks.map(\.count).prefix(3))")
            if got != Self.expected { break }
        }
    }

    @Test func theSameHeadersAfterAGetHaveABody() throws {
        // Without the HEAD, the 100-byte Content-Length makes the decoder wait for a body.
        var decoder = HTTPResponseDecoder()
        decoder.expectResponse(to: "GET")
        decoder.append(bytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"))
        #expect(try decoder.next() == nil)
        #expect(throws: HTTPError.self) { _ = try decoder.finish() }
    }

    @Test func aResponseReadToCloseEndsOnlyAtFinish() throws {
        var decoder = HTTPResponseDecoder()
        decoder.expectResponse(to: "GET")
        decoder.append(bytes("HTTP/1.1 200 OK\r\n\r\npart one "))
        #expect(try decoder.next() == nil)
        #expect(decoder.isReadingUntilClose)
        decoder.append(bytes("part two"))
        #expect(try decoder.next() == nil)
        let response = try decoder.finish()
        #expect(response?.body == bytes("part one part two"))
        #expect(try decoder.finish() == nil)  // nothing more: a clean close
    }

    @Test func aBodyReadToCloseIsBounded() {
        let limits = HTTPLimits(maxBodyBytes: 8)
        let got = decodeResponses(bytes("HTTP/1.1 200 OK\r\n\r\n0123456789"), methods: ["GET"], limits: limits)
        #expect(got == [.failure(.bodyTooLarge, status: 413)])
    }

    static let failures: [(String, HTTPError.Code)] = [
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", .truncated),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc", .truncated),
        ("HTTP/1.1 2000 OK\r\n\r\n", .malformedStartLine),
        ("HTTP/1.1 099 Low\r\n\r\n", .malformedStartLine),
        ("HTTP/1.1 abc OK\r\n\r\n", .malformedStartLine),
        ("HTTP/3.0 200 OK\r\n\r\n", .unsupportedVersion),
        ("ICY 200 OK\r\n\r\n", .malformedStartLine),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", .conflictingFraming),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", .unsupportedTransferCoding),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", .malformedChunk),
        ("HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", .malformedHeader),
    ]

    @Test(arguments: failures)
    func malformedResponseIsRefusedAtEverySplitPoint(_ failure: (String, HTTPError.Code)) {
        let (text, code) = failure
        let stream = bytes("HTTP/1.1 204 No Content\r\n\r\n" + text)
        let expected: [HTTPDecoded<HTTPResponse>] = [
            .message(HTTPResponse(status: 204, reason: "No Content")), .failure(code, status: HTTPError(code, "").status),
        ]
        for chunks in splits(stream) {
            let got = decodeResponses(chunks: chunks, methods: ["GET", "GET"])
            #expect(got == expected, "\(text.debugDescription) chunking \(chunks.map(\.count).prefix(3))")
            if got != expected { break }
        }
    }
}

@Suite struct HTTPKeepAliveTests {
    @Test func http11PersistsUnlessClosed() {
        #expect(HTTPRequest(method: "GET", target: "/").keepAlive)
        #expect(!HTTPRequest(method: "GET", target: "/", headers: ["Connection": "close"]).keepAlive)
        #expect(!HTTPRequest(method: "GET", target: "/", headers: ["connection": "Upgrade, CLOSE"]).keepAlive)
        #expect(HTTPResponse(status: 200, headers: ["Connection": "keep-alive"]).keepAlive)
        #expect(!HTTPResponse(status: 200, headers: ["Connection": " close "]).keepAlive)
    }

    @Test func http10PersistsOnlyWithKeepAlive() {
        #expect(!HTTPRequest(method: "GET", target: "/", version: .http10).keepAlive)
        #expect(HTTPRequest(method: "GET", target: "/", version: .http10, headers: ["Connection": "Keep-Alive"]).keepAlive)
        #expect(!HTTPResponse(version: .http10, status: 200).keepAlive)
        #expect(HTTPResponse(version: .http10, status: 200, headers: ["Connection": "foo, keep-alive"]).keepAlive)
        #expect(!HTTPResponse(version: .http10, status: 200, headers: ["Connection": "keep-alive, close"]).keepAlive)
    }
}

@Suite struct HTTPResponseMethodQueueTests {
    /// A long keep-alive connection with one request always in flight: each response is matched to
    /// its own request's method (a HEAD every third request), however the list is compacted.
    @Test func methodsStayInStepOverManyRequests() throws {
        func method(_ index: Int) -> String { index % 3 == 2 ? "HEAD" : "GET" }
        var decoder = HTTPResponseDecoder()
        decoder.expectResponse(to: method(0))
        for index in 0..<300 {
            decoder.expectResponse(to: method(index + 1))
            let isHead = method(index) == "HEAD"
            decoder.append(bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + (isHead ? "" : "ok")))
            let response = try decoder.next()
            #expect(response?.body == (isHead ? [] : bytes("ok")), "response \(index)")
            if response == nil { break }
        }
        #expect(decoder.bufferedByteCount == 0)
    }
}
