import Testing
@testable import HeraldWire

/// Each limit, at every split point, and reported before the bytes it bounds are buffered.
@Suite struct HTTPLimitTests {
    static let small = HTTPLimits(maxLineBytes: 32, maxHeaderCount: 3, maxHeaderBytes: 64, maxBodyBytes: 10)

    static func expectAtEverySplit(_ text: String, _ code: HTTPError.Code, _ status: Int, limits: HTTPLimits = small) {
        let stream = bytes(text)
        for chunks in splits(stream) {
            let got = decodeRequests(chunks: chunks, limits: limits)
            #expect(got == [.failure(code, status: status)], "\(text.debugDescription) chunking \(chunks.map(\.count).prefix(3))")
            if got != [.failure(code, status: status)] { break }
        }
    }

    @Test func requestLineOverTheLimitIs414() {
        Self.expectAtEverySplit("GET /" + String(repeating: "a", count: 40) + " HTTP/1.1\r\nHost: h\r\n\r\n", .uriTooLong, 414)
    }

    @Test func requestLineAtTheLimitIsAccepted() {
        let line = "GET /" + String(repeating: "a", count: 16) + " HTTP/1.1\r\n"  // 32 bytes with CRLF
        #expect(line.utf8.count == 32)
        let got = decodeRequests(bytes(line + "Host: h\r\n\r\n"), limits: Self.small)
        #expect(got == [.message(HTTPRequest(method: "GET", target: "/" + String(repeating: "a", count: 16), headers: ["Host": "h"]))])
    }

    @Test func headerLineOverTheLimitIs431() {
        Self.expectAtEverySplit("GET / HTTP/1.1\r\nX-Long: " + String(repeating: "v", count: 40) + "\r\n\r\n", .headersTooLarge, 431)
    }

    @Test func headerSectionOverTheLimitIs431() {
        // Four 20-byte lines: each fits the line limit, together they pass 64 bytes.
        let line = "X-Abc: 0123456789\r\n"
        Self.expectAtEverySplit("GET / HTTP/1.1\r\n" + String(repeating: line, count: 4) + "\r\n", .headersTooLarge, 431,
            limits: HTTPLimits(maxLineBytes: 32, maxHeaderCount: 10, maxHeaderBytes: 64, maxBodyBytes: 10))
    }

    @Test func tooManyHeadersIs431() {
        Self.expectAtEverySplit("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", .tooManyHeaders, 431)
    }

    @Test func tooManyTrailersIs431() {
        Self.expectAtEverySplit("PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
            .tooManyHeaders, 431, limits: HTTPLimits(maxLineBytes: 64, maxHeaderCount: 3, maxHeaderBytes: 128, maxBodyBytes: 10))
    }

    @Test func contentLengthOverTheLimitIs413BeforeAnyBodyByte() {
        var decoder = HTTPRequestDecoder(limits: Self.small)
        decoder.append(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"))
        #expect(throws: HTTPError(.bodyTooLarge, "Content-Length 11 exceeds the limit of 10 bytes", offset: 48)) { _ = try decoder.next() }
        Self.expectAtEverySplit("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", .bodyTooLarge, 413)
    }

    @Test func bodyAtTheLimitIsAccepted() {
        let got = decodeRequests(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"), limits: Self.small)
        #expect(got == [.message(HTTPRequest(method: "POST", target: "/", headers: ["Host": "h", "Content-Length": "10"], body: bytes("0123456789")))])
    }

    @Test func chunksOverTheLimitAre413AtTheirSizeLine() {
        // 6 + 5 = 11 bytes: the second size line already breaks the limit, before its data.
        Self.expectAtEverySplit("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n", .bodyTooLarge, 413,
            limits: HTTPLimits(maxLineBytes: 64, maxHeaderCount: 3, maxHeaderBytes: 128, maxBodyBytes: 10))
    }

    @Test func chunkSizeLineOverTheLimitIsRefused() {
        Self.expectAtEverySplit("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "e", count: 70) + "\r\n",
            .lineTooLong, 400, limits: HTTPLimits(maxLineBytes: 64, maxHeaderCount: 3, maxHeaderBytes: 128, maxBodyBytes: 10))
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let limits = HTTPLimits.default
        #expect(limits.maxLineBytes == 8192)
        #expect(limits.maxHeaderCount == 100)
        #expect(limits.maxHeaderBytes == 65_536)
        #expect(limits.maxBodyBytes > 2 * 1_048_576)
    }
}
