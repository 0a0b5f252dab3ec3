import Testing
@testable import HeraldWire

@Suite struct HTTPRequestDecoderTests {
    static let pipelined = bytes(
        "POST /?Action=Publish HTTP/1.1\r\nHost: localhost:4566\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\nhello world"
            + "GET /a%20b HTTP/1.1\r\nHost: h\r\nX-Dup: 1\r\nx-dup:  2 \t\r\nEmpty:\r\n\r\n"
            + "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6 \r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
            + "\r\nGET * HTTP/1.0\n\n")

    static let expected: [HTTPDecoded<HTTPRequest>] = [
        .message(HTTPRequest(
            method: "POST", target: "/?Action=Publish",
            headers: ["Host": "localhost:4566", "Content-Type": "application/x-www-form-urlencoded", "Content-Length": "11"],
            body: bytes("hello world"))),
        .message(HTTPRequest(method: "GET", target: "/a%20b", headers: HTTPHeaders([
            HTTPField(name: "Host", value: "h"), HTTPField(name: "X-Dup", value: "1"), HTTPField(name: "x-dup", value: "2"),
            HTTPField(name: "Empty", value: ""),
        ]))),
        .message(HTTPRequest(
            method: "PUT", target: "/c", headers: ["Host": "h", "Transfer-Encoding": "chunked"], body: bytes("hello world"),
            trailers: ["X-Trailer": "t"])),
        .message(HTTPRequest(method: "GET", target: "*", version: .http10)),
    ]

    @Test func pipelinedRequestsDecodeOneAfterAnother() {
        #expect(decodeRequests(Self.pipelined) == Self.expected)
    }

    @Test func everySplitPointGivesTheSameRequests() {
        for chunks in splits(Self.pipelined) {
            let got = decodeRequests(chunks: chunks)
            #expect(got == Self.expected, "chunking \(chunks.map(\.count).prefix(3))")
            if got != Self.expected { break }
        }
    }

    @Test func bytesAfterARequestWaitForTheNext() throws {
        var decoder = HTTPRequestDecoder()
        decoder.append(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHo"))
        #expect(try decoder.next()?.target == "/")
        #expect(decoder.bufferedByteCount == bytes("GET /next HTTP/1.1\r\nHo").count)
        #expect(try decoder.next() == nil)
        #expect(!decoder.isIdle)
        #expect(throws: HTTPError.self) { try decoder.finish() }
    }

    @Test func headerLookupIgnoresCaseAndKeepsDuplicates() throws {
        guard case .message(let request) = Self.expected[1] else { Issue.record("not a request"); return }
        #expect(request.headers["X-DUP"] == "1")
        #expect(request.headers.values(for: "x-Dup") == ["1", "2"])
        #expect(request.headers["missing"] == nil)
        #expect(request.path == "/a%20b")
        #expect(request.query == nil)
    }

    /// Each malformed input, with the error and status, at every split point.
    static let failures: [(String, HTTPError.Code, Int)] = [
        ("GET / HTTP/2.0\r\n\r\n", .unsupportedVersion, 505),
        ("GET / HTTP/1.1x\r\n\r\n", .malformedStartLine, 400),
        ("GET /  HTTP/1.1\r\n\r\n", .malformedStartLine, 400),
        ("GET\r\n\r\n", .malformedStartLine, 400),
        ("G(T / HTTP/1.1\r\n\r\n", .invalidTarget, 400),
        ("GET /\u{7F} HTTP/1.1\r\n\r\n", .invalidTarget, 400),
        ("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", .obsoleteLineFolding, 400),
        ("GET / HTTP/1.1\r\nHost : h\r\n\r\n", .malformedHeader, 400),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", .malformedHeader, 400),
        ("GET / HTTP/1.1\r\n: empty\r\n\r\n", .malformedHeader, 400),
        ("GET / HTTP/1.1\r\nHost: h\rX-Injected: 1\r\n\r\n", .malformedHeader, 400),
        ("GET / HTTP/1.1\r\nHost: a\u{0}b\r\n\r\n", .malformedHeader, 400),
        ("GET / HTTP/1.1\r\n\r\n", .missingHost, 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .missingHost, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", .conflictingFraming, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferCoding, 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", .unsupportedTransferCoding, 501),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\nabc", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .malformedChunk, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", .malformedChunk, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1x\r\n", .malformedChunk, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", .malformedChunk, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", .malformedChunk, 400),
        ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nabc", .truncated, 400),
        ("GET / HTTP/1.1\r\nHost: h\r\n", .truncated, 400),
    ]

    @Test(arguments: failures)
    func malformedRequestIsRefusedAtEverySplitPoint(_ failure: (String, HTTPError.Code, Int)) {
        let (text, code, status) = failure
        // A good request first, so the error also comes after a pipelined message.
        let stream = bytes("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n" + text)
        let expected: [HTTPDecoded<HTTPRequest>] = [
            .message(HTTPRequest(method: "GET", target: "/ok", headers: ["Host": "h"])), .failure(code, status: status),
        ]
        for chunks in splits(stream) {
            let got = decodeRequests(chunks: chunks)
            #expect(got == expected, "\(text.debugDescription) chunking \(chunks.map(\.count).prefix(3))")
            if got != expected { break }
        }
    }

    @Test func aFailedDecoderKeepsFailing() {
        var decoder = HTTPRequestDecoder()
        decoder.append(bytes("BAD\r\n"))
        #expect(throws: HTTPError.self) { _ = try decoder.next() }
        decoder.append(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        #expect(throws: HTTPError.self) { _ = try decoder.next() }
    }
}
