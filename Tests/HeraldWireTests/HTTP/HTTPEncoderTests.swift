import Testing
@testable import HeraldWire

@Suite struct HTTPEncoderTests {
    @Test func requestEncodesToTheExpectedBytes() throws {
        let request = HTTPRequest(method: "POST", target: "/hooks?a=1", headers: ["Host": "example.com:8080", "X-Amz-Sns-Message-Type": "Notification"], body: bytes("{}"))
        #expect(try request.encode() == bytes("POST /hooks?a=1 HTTP/1.1\r\nHost: example.com:8080\r\nX-Amz-Sns-Message-Type: Notification\r\nContent-Length: 2\r\n\r\n{}"))
    }

    @Test func requestRoundTripsThroughTheDecoder() throws {
        let request = HTTPRequest(method: "PUT", target: "/x", headers: HTTPHeaders([
            HTTPField(name: "Host", value: "h"), HTTPField(name: "A", value: "1"), HTTPField(name: "a", value: "2 3"),
        ]), body: Array(0...255))
        var expected = request
        expected.headers.append("Content-Length", "256")
        #expect(decodeRequests(try request.encode()) == [.message(expected)])
    }

    @Test func responseRoundTripsThroughTheDecoder() throws {
        let response = HTTPResponse(status: 429, headers: ["Retry-After": "1"], body: bytes("slow down"))
        #expect(response.reason == "Too Many Requests")
        var expected = response
        expected.headers.append("Content-Length", "9")
        #expect(decodeResponses(try response.encode(), methods: ["POST"]) == [.message(expected)])
    }

    @Test func framingHeadersAreTheEncoders() throws {
        let request = HTTPRequest(method: "POST", target: "/", headers: ["Host": "h", "content-length": "99", "Transfer-Encoding": "chunked"], body: bytes("abc"))
        #expect(try request.encode() == bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"))
        #expect(try HTTPRequest(method: "POST", target: "/", headers: ["Host": "h"]).encode() == bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"))
        #expect(try HTTPRequest(method: "GET", target: "/", headers: ["Host": "h"]).encode() == bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
    }

    @Test func bodylessResponsesGetNoLengthAndHeadOmitsTheBody() throws {
        #expect(try HTTPResponse(status: 204).encode() == bytes("HTTP/1.1 204 No Content\r\n\r\n"))
        #expect(try HTTPResponse(status: 404).encode() == bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
        #expect(try HTTPResponse(status: 200, body: bytes("hello")).encode(omittingBody: true) == bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"))
    }

    static let injections: [HTTPRequest] = [
        HTTPRequest(method: "GET", target: "/", headers: ["Host": "h", "X-Evil": "a\r\nX-Injected: 1"]),
        HTTPRequest(method: "GET", target: "/", headers: ["Host": "h", "X-Evil": "a\nb"]),
        HTTPRequest(method: "GET", target: "/", headers: ["Host": "h", "X-Evil": "a\u{0}b"]),
        HTTPRequest(method: "GET", target: "/", headers: ["Bad Name": "v"]),
        HTTPRequest(method: "GET", target: "/", headers: ["Name:": "v"]),
        HTTPRequest(method: "GET", target: "/", headers: ["": "v"]),
        HTTPRequest(method: "GET", target: "/ HTTP/1.1\r\nX: y", headers: ["Host": "h"]),
        HTTPRequest(method: "GET", target: "", headers: ["Host": "h"]),
        HTTPRequest(method: "GE T", target: "/", headers: ["Host": "h"]),
    ]

    @Test(arguments: injections)
    func headerInjectionIsRefused(_ request: HTTPRequest) {
        #expect { _ = try request.encode() } throws: { ($0 as? HTTPError)?.code == .invalidField }
    }

    @Test func responseInjectionIsRefused() {
        #expect { _ = try HTTPResponse(status: 200, reason: "OK\r\nSet-Cookie: x").encode() } throws: { ($0 as? HTTPError)?.code == .invalidField }
        #expect { _ = try HTTPResponse(status: 200, headers: ["Location": "/a\r\n\r\n<html>"]).encode() } throws: { ($0 as? HTTPError)?.code == .invalidField }
        #expect { _ = try HTTPResponse(status: 42).encode() } throws: { ($0 as? HTTPError)?.code == .invalidField }
    }

    @Test func chunkedOutputDecodes() throws {
        var out = bytes("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
        HTTPEncoding.appendChunk(bytes("hello "), to: &out)
        HTTPEncoding.appendChunk([UInt8](), to: &out)
        HTTPEncoding.appendChunk([UInt8](repeating: 0x41, count: 300), to: &out)
        HTTPEncoding.appendLastChunk(to: &out)
        #expect(out.count == 57 + 3 + 8 + 5 + 302 + 5)  // head, "6\r\n", data+CRLF, "12c\r\n", data+CRLF, "0\r\n\r\n"
        let expected = HTTPRequest(method: "POST", target: "/c", headers: ["Host": "h", "Transfer-Encoding": "chunked"], body: bytes("hello ") + [UInt8](repeating: 0x41, count: 300))
        #expect(decodeRequests(out) == [.message(expected)])
    }
}
