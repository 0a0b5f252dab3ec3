// Client and server against each other on loopback, plain and TLS.
import Dispatch
import HeraldHTTP
import HeraldNet
import HeraldTestSupport
import HeraldWire
import Testing

@Suite struct HTTPClientServerTests {
    @Test func plainRoundTripCarriesBodyHostAndBasicAuth() async throws {
        let receiver = try TestHTTPReceiver(script: [.init(status: 201, body: "created")])
        let client = try HTTPTest.client()
        let url = try HTTPTest.url("http://alice:s%3Acret@127.0.0.1:\(receiver.port)/hooks/orders?x=1")
        let request = HTTPRequest(method: "POST", target: "/", headers: ["Content-Type": "application/json"], body: Array("{\"a\":1}".utf8))
        let response = try await client.send(request, to: url, timeout: .seconds(5)).get()
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
        let receiver = try TestHTTPReceiver(tls: true, fallback: .init(status: 200, body: "secure"))
        let client = try HTTPTest.client()
        for host in ["127.0.0.1", "localhost"] {
            let url = try HTTPTest.url("https://\(host):\(receiver.port)/tls")
            let response = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: .seconds(5)).get()
            #expect(response.body == Array("secure".utf8), "via \(host)")
        }
        #expect(receiver.requestCount == 2)
    }

    @Test func sequentialRequestsReuseOneKeepAliveConnection() async throws {
        let receiver = try TestHTTPReceiver()
        let client = try HTTPTest.client()
        let url = try HTTPTest.url(receiver.url("/n"))
        for _ in 0..<5 {
            let response = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: .seconds(5)).get()
            #expect(response.status == 200)
        }
        #expect(receiver.requestCount == 5)
        #expect(receiver.acceptedConnections == 1)
        #expect(client.connectionsOpened == 1)
        #expect(client.idleConnections(to: url) == 1)
    }

    @Test func serverStatusesAreResponsesNotErrors() async throws {
        let receiver = try TestHTTPReceiver(script: [
            .init(status: 500, body: "boom"), .init(status: 429, body: "slow down"),
            .init(status: 302, headers: ["Location": "/elsewhere"]),
        ])
        let client = try HTTPTest.client()
        let url = try HTTPTest.url(receiver.url("/s"))
        var statuses: [Int] = []
        for _ in 0..<3 {
            statuses.append(try await client.send(HTTPRequest(method: "POST", target: "/"), to: url, timeout: .seconds(5)).get().status)
        }
        #expect(statuses == [500, 429, 302])
        #expect(receiver.requests.map(\.target) == ["/s", "/s", "/s"])  // the redirect was not followed
    }

    @Test func idlePooledConnectionsAreEvicted() async throws {
        let receiver = try TestHTTPReceiver()
        // 4 s: long enough that two back-to-back requests fall within it even while parallel tests
        // stall the machine for a moment, short enough to wait out.
        let client = try HTTPTest.client { $0.idleConnectionTimeout = .seconds(4) }
        let url = try HTTPTest.url(receiver.url())
        // Back to back (well within the idle timeout): the second request reuses the first's connection.
        for _ in 0..<2 {
            _ = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: .seconds(5)).get()
        }
        #expect(client.connectionsOpened == 1)
        #expect(await eventually(.seconds(30)) { client.idleConnections(to: url) == 0 && receiver.activeConnections == 0 })
        // The next request opens a new connection.
        _ = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: .seconds(5)).get()
        #expect(client.connectionsOpened == 2)
    }

    @Test func idleConnectionsPerEndpointAreBounded() async throws {
        let receiver = try TestHTTPReceiver(fallback: .init(status: 200, delay: .milliseconds(400)))
        let client = try HTTPTest.client { $0.maxIdleConnectionsPerEndpoint = 2 }
        let url = try HTTPTest.url(receiver.url())
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 {
                group.addTask { _ = await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: .seconds(5)) }
            }
        }
        #expect(client.connectionsOpened > 2)  // concurrent requests each needed a connection
        #expect(client.idleConnections(to: url) == 2)
        #expect(await eventually(.seconds(5)) { receiver.activeConnections == 2 })
    }

    @Test func completionsRunOnTheConfiguredQueue() async throws {
        let receiver = try TestHTTPReceiver()
        let queue = DispatchQueue(label: "test.http.callbacks")
        let key = DispatchSpecificKey<String>()
        queue.setSpecific(key: key, value: "mine")
        let client = try HTTPTest.client { $0.callbackQueue = queue }
        let url = try HTTPTest.url(receiver.url())
        let labels = Collector<String?>()
        for target in [url, try HTTPTest.url("http://127.0.0.1:\(try HTTPTest.closedPort())/")] {
            client.send(HTTPRequest(method: "GET", target: "/"), to: target, timeout: .seconds(5)) { _ in
                labels.append(DispatchQueue.getSpecific(key: key))
            }
        }
        #expect(labels.waitForCount(2))
        #expect(labels.all == ["mine", "mine"])
    }

    @Test func headResponseHasNoBodyAndTheConnectionIsReused() async throws {
        let receiver = try TestHTTPReceiver(fallback: .init(status: 200, body: "twelve bytes"))
        let client = try HTTPTest.client()
        let url = try HTTPTest.url(receiver.url())
        let head = try await client.send(HTTPRequest(method: "HEAD", target: "/"), to: url, timeout: .seconds(5)).get()
        #expect(head.body.isEmpty)
        #expect(head.headers["Content-Length"] == "12")
        let get = try await client.send(HTTPRequest(method: "GET", target: "/"), to: url, timeout: .seconds(5)).get()
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
