// The server against raw sockets: pipelining, bad requests, HTTP/1.0, idle peers.
import Dispatch
import Foundation
import HeraldHTTP
import HeraldNet
import HeraldTestSupport
import HeraldWire
import Testing

@Suite struct HTTPServerTests {
    @Test func pipelinedRequestsAnsweredOutOfOrderComeBackInOrder() throws {
        let server = try HTTPServer(configuration: .init()) { request, respond in
            let delay: Int = request.target == "/slow" ? 300 : request.target == "/mid" ? 100 : 0
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(delay)) {
                respond(HTTPResponse(status: 200, body: Array(request.target.utf8)))
            }
        }
        let socket = try PlainSocket(port: server.port)
        socket.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /mid HTTP/1.1\r\nHost: a\r\n\r\nGET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
        let (responses, _) = HTTPTest.readResponses(socket, count: 3)
        #expect(responses.map { String(decoding: $0.body, as: UTF8.self) } == ["/slow", "/mid", "/fast"])
        #expect(server.acceptedConnections == 1)
    }

    @Test(arguments: [
        ("GARBAGE\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999\r\n\r\n", 413),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "x", count: 3000) + "\r\n\r\n", 431),
    ])
    func badRequestsGetTheirStatusAndTheConnectionCloses(input: String, status: Int) throws {
        var configuration = HTTPServer.Configuration()
        configuration.limits = HTTPLimits(maxLineBytes: 1024, maxHeaderBytes: 2048, maxBodyBytes: 10_000)
        let server = try HTTPServer(configuration: configuration) { _, respond in respond(HTTPResponse(status: 200)) }
        let socket = try PlainSocket(port: server.port)
        socket.send(input)
        let (responses, _) = HTTPTest.readResponses(socket, count: 1)
        #expect(responses.first?.status == status)
        #expect(responses.first?.headers["Connection"] == "close")
        #expect(socket.waitForServerClose(timeout: .seconds(5)))
    }

    @Test func aGoodRequestBeforeABadOneIsStillAnswered() throws {
        let server = try HTTPServer(configuration: .init()) { _, respond in respond(HTTPResponse(status: 204)) }
        let socket = try PlainSocket(port: server.port)
        socket.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nNOT HTTP\r\n\r\n")
        let (responses, _) = HTTPTest.readResponses(socket, count: 2)
        #expect(responses.map(\.status) == [204, 400])
        #expect(socket.waitForServerClose(timeout: .seconds(5)))
    }

    @Test func http10WithoutKeepAliveIsAnsweredThenClosed() throws {
        let server = try HTTPServer(configuration: .init()) { _, respond in respond(HTTPResponse(status: 200, body: [1, 2, 3])) }
        let socket = try PlainSocket(port: server.port)
        socket.send("GET / HTTP/1.0\r\n\r\n")
        let (responses, _) = HTTPTest.readResponses(socket, count: 1)
        #expect(responses.first?.body == [1, 2, 3])
        #expect(responses.first?.headers["Connection"] == "close")
        #expect(socket.waitForServerClose(timeout: .seconds(5)))
    }

    @Test func http10WithKeepAliveStaysOpen() throws {
        let server = try HTTPServer(configuration: .init()) { _, respond in respond(HTTPResponse(status: 200)) }
        let socket = try PlainSocket(port: server.port)
        socket.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let (responses, closed) = HTTPTest.readResponses(socket, count: 2)
        #expect(responses.map { $0.headers["Connection"] } == ["keep-alive", "keep-alive"])
        #expect(!closed)
    }

    @Test func connectionCloseRequestEndsTheConnectionAfterItsAnswer() throws {
        let server = try HTTPServer(configuration: .init()) { _, respond in respond(HTTPResponse(status: 200)) }
        let socket = try PlainSocket(port: server.port)
        socket.send("GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
        let (responses, _) = HTTPTest.readResponses(socket, count: 2, timeout: .seconds(2))
        #expect(responses.count == 1)  // /b was never read
        #expect(socket.waitForServerClose(timeout: .seconds(5)))
    }

    @Test func silentPeerIsDroppedAfterTheIdleTimeout() throws {
        var configuration = HTTPServer.Configuration()
        configuration.idleTimeout = .milliseconds(200)
        let server = try HTTPServer(configuration: configuration) { _, respond in respond(HTTPResponse(status: 200)) }
        let socket = try PlainSocket(port: server.port)
        socket.send("GET / HTTP/1.1\r\nHo")  // a slowloris stops mid-header
        #expect(socket.waitForServerClose(timeout: .seconds(5)))
    }

    @Test func tricklingPeerIsAnswered408AfterTheRequestTimeout() throws {
        var configuration = HTTPServer.Configuration()
        configuration.requestTimeout = .milliseconds(300)
        let server = try HTTPServer(configuration: configuration) { _, respond in respond(HTTPResponse(status: 200)) }
        let socket = try PlainSocket(port: server.port)
        // A byte every 50 ms is never idle, but the request is not whole after 300 ms.
        for byte in "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: aaaaaaaaaaaaaaaa" {
            guard socket.send(String(byte)) else { break }
            usleep(50_000)
        }
        let (responses, _) = HTTPTest.readResponses(socket, count: 1)
        #expect(responses.first?.status == 408)
        #expect(socket.waitForServerClose(timeout: .seconds(5)))
    }

    @Test func requestsWithinTheRequestTimeoutOnAKeptAliveConnectionAreServed() throws {
        var configuration = HTTPServer.Configuration()
        configuration.requestTimeout = .milliseconds(300)
        let server = try HTTPServer(configuration: configuration) { _, respond in respond(HTTPResponse(status: 204)) }
        let socket = try PlainSocket(port: server.port)
        // The connection outlives the timeout; each request arrives whole and in time.
        for _ in 0..<3 {
            socket.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            let (responses, closed) = HTTPTest.readResponses(socket, count: 1)
            #expect(responses.first?.status == 204)
            #expect(!closed)
            usleep(200_000)
        }
    }

    @Test func unansweredPipelinedRequestsAreBounded() throws {
        let held = HeldResponders()
        var configuration = HTTPServer.Configuration()
        configuration.maxPipelinedRequests = 2
        let server = try HTTPServer(configuration: configuration) { request, responder in held.add(request, responder) }
        let socket = try PlainSocket(port: server.port)
        socket.send(String(repeating: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", count: 5))
        #expect(waitUntil(.seconds(5)) { held.count == 2 })
        #expect(!waitUntil(.milliseconds(200)) { held.count > 2 })
        for (_, responder) in held.all { responder.respond(HTTPResponse(status: 200)) }
        #expect(waitUntil(.seconds(5)) { held.count == 4 })
        for (_, responder) in held.all.suffix(2) { responder.respond(HTTPResponse(status: 200)) }
        #expect(waitUntil(.seconds(5)) { held.count == 5 })
        held.all.last?.1.respond(HTTPResponse(status: 200))
        #expect(HTTPTest.readResponses(socket, count: 5).responses.count == 5)
    }

    @Test func onlyTheFirstAnswerCounts() throws {
        let server = try HTTPServer(configuration: .init()) { _, respond in
            respond(HTTPResponse(status: 201))
            respond(HTTPResponse(status: 500))
        }
        let socket = try PlainSocket(port: server.port)
        socket.send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let (responses, _) = HTTPTest.readResponses(socket, count: 3, timeout: .milliseconds(500))
        #expect(responses.map(\.status) == [201, 201])
    }
}
