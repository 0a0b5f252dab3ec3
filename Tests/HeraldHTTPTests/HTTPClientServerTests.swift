// Client and server against each other on loopback, plain and TLS.
import Dispatch
import HeraldHTTP
import HeraldNet
import HeraldTestSupport
import HeraldWire
import Testing

@Suite struct HTTPClientServerTests {
    @Test func plainRoundTripCarriesBodyHostAndBasicAuth() async throws {
        let receiver = try HTTPTest.receiver(script: [.init(status: 201, body: "created")])
        let client = try HTTPTest.client()
        let url = try HTTPTest.url("http://alice:s%3Acret@127.0.0.1:\(receiver.port)/hooks/orders?x=1")
        let request = HTTPRequest(method: "POST", target: "/", headers: ["Content-Type": "application/json"], body: Array("{\"a\":1}".utf8))
        let response = try await client.send(request, to: url, timeout: HTTPTest.patience).get()
        #expect(response.status == 201)
        #expect(response.body == Array("created".utf8))
        let seen = try #require(receiver.requests.first)
        #expect(seen.method == "POST")
        #expect(seen.target == "/hooks/orders?x=1")
        #expect(seen.body == Array("{\"a\":1}".utf8))
        #expect(seen.headers["Host"] == "127.0.0.1:\(receiver.port)")
        #expect(seen.headers["Authorization"] == "Basic " + Base64Text.encode("alice:s:cret"))
    }

    @Test func tlsRoundTripVerifiesTheDevCertificateByIPAndName() async throws {
        let receiver = try HTTPTest.receiver(tls: true, fallback: .init(status: 200, body: "secure"))
        let client = try HTTPTest.client()
        for host in ["127.0.0.1", "localhost"] {
            let url = try HTTPTest.url("https://\(host):\(receiver.port)/tls")
            let response = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: HTTPTest.patience).get()
            #expect(response.body == Array("secure".utf8), "via \(host)")
        }
        #expect(receiver.requestCount == 2)
    }

    @Test func sequentialRequestsReuseOneKeepAliveConnection() async throws {
        let receiver = try HTTPTest.receiver()
        let client = try HTTPTest.client()
        let url = try HTTPTest.url(receiver.url("/n"))
        for _ in 0..<5 {
            let response = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: HTTPTest.patience).get()
            #expect(response.status == 200)
        }
        #expect(receiver.requestCount == 5)
        #expect(receiver.acceptedConnections == 1)
        #expect(client.connectionsOpened == 1)
        #expect(client.idleConnections(to: url) == 1)
    }

    @Test func serverStatusesAreResponsesNotErrors() async throws {
        let receiver = try HTTPTest.receiver(script: [
            .init(status: 500, body: "boom"), .init(status: 429, body: "slow down"),
            .init(status: 302, headers: ["Location": "/elsewhere"]),
        ])
        let client = try HTTPTest.client()
        let url = try HTTPTest.url(receiver.url("/s"))
        var statuses: [Int] = []
        for _ in 0..<3 {
            statuses.append(try await client.send(HTTPRequest(method: "POST", target: "/"), to: url, timeout: HTTPTest.patience).get().status)
        }
        #expect(statuses == [500, 429, 302])
        #expect(receiver.requests.map(\.target) == ["/s", "/s", "/s"])  // the redirect was not followed
    }

    @Test func idlePooledConnectionsAreEvicted() async throws {
        // The server keeps idle connections for minutes: only the client's 1 s limit can close this one.
        let receiver = try HTTPTest.receiver()
        let client = try HTTPTest.client { $0.idleConnectionTimeout = .seconds(1) }
        let url = try HTTPTest.url(receiver.url())
        _ = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: HTTPTest.patience).get()
        #expect(client.connectionsOpened == 1)
        // Waited for, not slept for: however long the test stalls, eviction shows as an empty pool and
        // a connection the server saw closed (the last check comes after the deadline).
        #expect(await eventually(HTTPTest.patience) { client.idleConnections(to: url) == 0 && receiver.activeConnections == 0 })
        // The next request opens a new connection.
        _ = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: HTTPTest.patience).get()
        #expect(client.connectionsOpened == 2)
        #expect(receiver.acceptedConnections == 2)
    }

    @Test func idleConnectionsPerEndpointAreBounded() async throws {
        // The server holds its answers until all five requests are in: five connections at once
        // (the client sends one request per connection at a time), however the test is scheduled.
        let held = HeldResponders()
        var configuration = HTTPServer.Configuration()
        configuration.idleTimeout = HTTPTest.longIdle
        let server = try HTTPServer(configuration: configuration) { request, responder in held.add(request, responder) }
        let client = try HTTPTest.client { $0.maxIdleConnectionsPerEndpoint = 2 }
        let url = try HTTPTest.url("http://127.0.0.1:\(server.port)/")
        let statuses = Collector<Int?>()
        // The answers wait for this test to hand them out, however long it stalls: minutes of timeout.
        for _ in 0..<5 {
            client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: HTTPTest.longIdle) { result in
                statuses.append(try? result.get().status)
            }
        }
        #expect(await eventually(HTTPTest.patience) { held.count == 5 })
        #expect(client.connectionsOpened == 5)
        for (_, responder) in held.all { responder.respond(HTTPResponse(status: 200)) }
        #expect(await eventually(HTTPTest.patience) { statuses.count == 5 })
        #expect(statuses.all == Array(repeating: 200, count: 5))
        // Each connection is back in the pool (or refused a place and closed) before its completion runs.
        #expect(client.idleConnections(to: url) == 2)
        #expect(await eventually(HTTPTest.patience) { server.activeConnections == 2 })
        server.close()
    }

    @Test func completionsRunOnTheConfiguredQueue() async throws {
        let receiver = try HTTPTest.receiver()
        let queue = DispatchQueue(label: "test.http.callbacks")
        let key = DispatchSpecificKey<String>()
        queue.setSpecific(key: key, value: "mine")
        let client = try HTTPTest.client { $0.callbackQueue = queue }
        let url = try HTTPTest.url(receiver.url())
        let labels = Collector<String?>()
        let refusing = try RefusingPort()  // a refused connect completes on the queue too
        for target in [url, try HTTPTest.url("http://127.0.0.1:\(refusing.port)/")] {
            client.send(HTTPRequest(method: "GET", target: "/"), to: target, timeout: HTTPTest.patience) { _ in
                labels.append(DispatchQueue.getSpecific(key: key))
            }
        }
        #expect(await eventually(HTTPTest.patience) { labels.count == 2 })
        refusing.close()
        #expect(labels.all == ["mine", "mine"])
    }

    @Test func headResponseHasNoBodyAndTheConnectionIsReused() async throws {
        let receiver = try HTTPTest.receiver(fallback: .init(status: 200, body: "twelve bytes"))
        let client = try HTTPTest.client()
        let url = try HTTPTest.url(receiver.url())
        let head = try await client.send(HTTPRequest(method: "HEAD", target: "/"), to: url, timeout: HTTPTest.patience).get()
        #expect(head.body.isEmpty)
        #expect(head.headers["Content-Length"] == "12")
        let get = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: HTTPTest.patience).get()
        #expect(get.body == Array("twelve bytes".utf8))
        #expect(receiver.acceptedConnections == 1)
    }
}

/// Base64 of UTF-8 text (HeraldCore's encoder, without importing it into every test).
enum Base64Text {
    static func encode(_ text: String) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let bytes = Array(text.utf8)
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for position in 0..<4 {
                out.append(position <= chunk.count ? table[(value >> (18 - 6 * position)) & 63] : "=")
            }
            index += 3
        }
        return out
    }
}
