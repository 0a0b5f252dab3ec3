// The admin listener end to end: a known workload over loopback TLS, then /metrics scraped over
// real HTTP and read by a real Prometheus parser (Python's prometheus_client), /healthz and
// /readyz, and `herald top --once` as a child process against the live server.
import Foundation
import FilterPolicy
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldTestSupport
import HeraldWire
import Synchronization
import Testing
@testable import HeraldServer

extension Integration {
    @Suite struct MetricsTests {
        static let parserInstalled = ChildProcess.succeeds(["python3", "-c", "import prometheus_client.parser"])

        /// `orders` with a named subscription that matches red messages and one that matches blue.
        static func config() throws -> HeraldConfig {
            var config = TestServer.baseConfig()
            config.admin = HeraldConfig.Admin(listen: ListenAddress(host: "127.0.0.1", port: 0))
            config.subscriptions = [
                HeraldConfig.Subscription(name: "reds", topic: "orders", protocol: .stream, filterPolicy: try FilterPolicy.parse(#"{"color":["red"]}"#)),
                HeraldConfig.Subscription(name: "blues", topic: "orders", protocol: .stream, filterPolicy: try FilterPolicy.parse(#"{"color":["blue"]}"#)),
            ]
            return config
        }

        /// Runs the workload: 5 red messages to `orders`, a reader attached to `reds`, an anonymous
        /// manual-ack subscriber with credit 2 that never acks (2 in flight, 3 pending), one publish
        /// a FIFO topic refuses, one plain-text client on the TLS port, one reload. Returns the three
        /// clients, still connected (the caller closes them after scraping).
        static func runWorkload(_ server: Server, port: Int) throws -> [HeraldClient] {
            let options = ClientOptions(host: "127.0.0.1", port: port, caFile: TestPaths.ca)
            let reader = try HeraldClient.connect(options)
            let got = Collector<ClientDelivery>()
            _ = try reader.subscribe(topic: "orders", subscriptionName: "reds") { got.append($0) }
            let stalled = try HeraldClient.connect(options)
            _ = try stalled.subscribe(topic: "orders", ackMode: .manual, credit: 2) { _ in }
            let publisher = try HeraldClient.connect(options)
            for index in 0..<5 {
                _ = try publisher.publish(topic: "orders", attributes: ["color": .string("red")], body: Array("red-\(index)".utf8))
            }
            _ = try publisher.publish(topic: "audit.fifo", body: Array("x".utf8), groupID: "g", deduplicationID: "d")
            #expect(throws: ClientError.self) { try publisher.publish(topic: "audit.fifo", body: Array("no group".utf8)) }
            #expect(got.waitForCount(5, timeout: .seconds(10)))
            let plain = try PlainSocket(port: port)
            _ = plain.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(plain.waitForServerClose(timeout: .seconds(10)))
            plain.close()
            #expect(waitUntil { server.counters.snapshot.disconnects[.handshakeFailed, default: 0] == 1 })
            try server.reload(server.configuration)
            #expect(waitUntil { server.broker.gauges.pendingMessages == 3 })
            return [reader, stalled, publisher]
        }

        @Test(.enabled(if: parserInstalled, "python3 with prometheus_client is not installed (pip install prometheus_client)"))
        func scrapeAfterAKnownWorkloadHasExactCounts() async throws {
            let server = Server(config: try Self.config())
            try server.start()
            defer { server.stop() }
            let port = try #require(server.listenAddresses.first?.port)
            let adminPort = try #require(server.admin.port)
            let clients = try Self.runWorkload(server, port: port)
            defer { for client in clients { client.close() } }

            let response = try await Self.get("http://127.0.0.1:\(adminPort)/metrics")
            #expect(response.status == 200)
            #expect(response.headers["Content-Type"] == AdminEndpoint.metricsContentType)
            let samples = try Self.parseWithPrometheusClient(String(decoding: response.body, as: UTF8.self))
            func value(_ name: String, _ labels: [String: String] = [:]) -> Double? { samples[MetricKey(name, labels)] }

            #expect(value("herald_topic_publishes_total", ["topic": "orders"]) == 5)
            #expect(value("herald_topic_publishes_total", ["topic": "audit.fifo"]) == 1)
            #expect(value("herald_topic_publishes_rejected_total", ["topic": "audit.fifo"]) == 1)
            #expect(value("herald_topic_publishes_rejected_total", ["topic": "orders"]) == 0)
            #expect(value("herald_publishes_total") == 6)
            #expect(value("herald_subscription_matched_total", ["topic": "orders", "subscription": "reds"]) == 5)
            #expect(value("herald_subscription_filtered_out_total", ["topic": "orders", "subscription": "reds"]) == 0)
            #expect(value("herald_subscription_matched_total", ["topic": "orders", "subscription": "blues"]) == 0)
            #expect(value("herald_subscription_filtered_out_total", ["topic": "orders", "subscription": "blues"]) == 5)
            #expect(value("herald_topic_subscriptions", ["topic": "orders"]) == 3)
            #expect(value("herald_connections_opened_total") == 3)
            #expect(value("herald_connections_open") == 3)
            #expect(value("herald_deliveries_total", ["target": "stream"]) == 2)
            #expect(value("herald_connections_closed_total", ["reason": "handshake_failed"]) == 1)
            #expect(value("herald_tls_handshake_failures_total", ["reason": "not_tls"]) == 1)
            #expect(value("herald_tls_handshake_failures_total", ["reason": "timeout"]) == 0)
            #expect(value("herald_config_reloads_total", ["result": "applied"]) == 1)
            #expect(value("herald_config_reloads_total", ["result": "rejected"]) == 0)
            #expect(value("herald_slow_consumer_disconnects_total", ["reason": "pending_queue"]) == 0)
            #expect(value("herald_stream_pending_messages") == 3)
            #expect(value("herald_stream_inflight_messages") == 2)
            let stalled = samples.filter { $0.key.name == "herald_subscriber_pending_messages" && $0.key.labels["topic"] == "orders" && $0.value == 3 }
            #expect(stalled.count == 1, "the stalled subscriber is listed with its backlog")
            // The reds' queue got its 5 messages (the reader took them all); the blues' queue none.
            #expect(value("herald_deliveries_total", ["target": "queue"]) == 5)
            #expect(value("herald_queue_messages", ["queue": "subscription/reds", "state": "visible"]) == 0)
            #expect(value("herald_queue_messages", ["queue": "subscription/blues", "state": "visible"]) == 0)
        }

        @Test func healthAndReadiness() async throws {
            let server = Server(config: try Self.config())
            #expect(!server.admin.isReady)
            try server.start()
            let adminPort = try #require(server.admin.port)
            #expect(try await Self.get("http://127.0.0.1:\(adminPort)/healthz").status == 200)
            let ready = try await Self.get("http://127.0.0.1:\(adminPort)/readyz")
            #expect(ready.status == 200 && String(decoding: ready.body, as: UTF8.self) == "ready\n")
            #expect(try await Self.get("http://127.0.0.1:\(adminPort)/nope").status == 404)
            // While stopping: not ready (the endpoint's answer with the flag down), then closed.
            server.admin.setReady(false)
            #expect(try await Self.get("http://127.0.0.1:\(adminPort)/readyz").status == 503)
            #expect(try await Self.get("http://127.0.0.1:\(adminPort)/healthz").status == 200)
            server.stop()
            #expect(server.admin.port == nil)
        }

        @Test func answersBeforeStartAreNotReadyAndOnlyGET() {
            let get = HTTPRequest(method: "GET", target: "/readyz")
            #expect(AdminEndpoint.answer(get, ready: false, metrics: { "" }).status == 503)
            #expect(AdminEndpoint.answer(get, ready: true, metrics: { "" }).status == 200)
            #expect(AdminEndpoint.answer(HTTPRequest(method: "POST", target: "/metrics"), ready: true, metrics: { "" }).status == 405)
            let metrics = AdminEndpoint.answer(HTTPRequest(method: "GET", target: "/metrics?x=1"), ready: false, metrics: { "a 1\n" })
            #expect(metrics.status == 200 && metrics.body == Array("a 1\n".utf8))
        }

        @Test func aBusyAdminPortFailsTheStartAndLeavesNothingOpen() throws {
            let first = Server(config: try Self.config())
            try first.start()
            defer { first.stop() }
            var config = try Self.config()
            config.admin = HeraldConfig.Admin(listen: ListenAddress(host: "127.0.0.1", port: UInt16(try #require(first.admin.port))))
            let second = Server(config: config)
            #expect(throws: ServerError.self) { try second.start() }
            #expect(second.admin.port == nil && second.listenAddresses.isEmpty)
        }

        @Test func labelValuesAreEscaped() {
            var text = PrometheusText()
            text.family("m", .gauge, help: "a\\b\nc")
            text.sample("m", ["topic": "a\"b\\c\nd"], 1)
            #expect(text.text == "# HELP m a\\\\b\\nc\n# TYPE m gauge\nm{topic=\"a\\\"b\\\\c\\nd\"} 1\n")
        }

        @Test func handshakeReasonsAreABoundedSet() {
            #expect(HandshakeFailureReason(openSSLText: "error:0A00010B:SSL routines::wrong version number") == .notTLS)
            #expect(HandshakeFailureReason(openSSLText: "error:0A000086:SSL routines::certificate verify failed") == .certificateVerifyFailed)
            #expect(HandshakeFailureReason(openSSLText: "error:0A0000C7:SSL routines::peer did not return a certificate") == .clientCertificateMissing)
            #expect(HandshakeFailureReason(openSSLText: "error:0A000418:SSL routines::tlsv1 alert unknown ca") == .peerRejectedCertificate)
            #expect(HandshakeFailureReason(openSSLText: "unexpected EOF during handshake") == .connectionClosed)
            #expect(HandshakeFailureReason(openSSLText: "something new") == .other)
        }

        @Test(.enabled(if: HeraldExecutable.exists, "the herald executable is built by `make test` first: \(HeraldExecutable.path)"))
        func topOnceShowsTopicsAndSubscriptions() throws {
            let server = Server(config: try Self.config())
            try server.start()
            defer { server.stop() }
            let port = try #require(server.listenAddresses.first?.port)
            let adminPort = try #require(server.admin.port)
            let clients = try Self.runWorkload(server, port: port)
            defer { for client in clients { client.close() } }
            let run = try ChildProcess.run(HeraldExecutable.path, ["top", "--once", "--admin", "http://127.0.0.1:\(adminPort)"])
            #expect(run.status == 0, "\(run.output)")
            let lines = run.output.split(separator: "\n").map(String.init)
            #expect(lines.first == "herald top — http://127.0.0.1:\(adminPort)/metrics")
            #expect(lines.contains { $0.split(separator: " ", omittingEmptySubsequences: true) == ["orders", "5", "-", "0", "3"] }, "\(run.output)")
            #expect(lines.contains { $0.split(separator: " ", omittingEmptySubsequences: true) == ["blues", "orders", "0", "5", "-"] }, "\(run.output)")
            #expect(lines.contains { $0.split(separator: " ", omittingEmptySubsequences: true) == ["reds", "orders", "5", "0", "-"] }, "\(run.output)")
            #expect(lines.contains { $0.contains("anonymous") && $0.split(separator: " ").suffix(2) == ["3", "2"] }, "the stalled consumer: \(run.output)")
            // Nothing listening: a clear error, exit 1.
            server.stop()
            let down = try ChildProcess.run(HeraldExecutable.path, ["top", "--once", "--admin", "http://127.0.0.1:\(adminPort)"])
            #expect(down.status == 1 && down.output.contains("cannot scrape"), "\(down.output)")
        }

        // MARK: - Helpers

        static func get(_ url: String) async throws -> HTTPResponse {
            let client = try HTTPClient()
            defer { client.shutDown() }
            return try await client.send(HTTPRequest(method: "GET", target: "/"), to: try HTTPURL(url), timeout: .seconds(10)).get()
        }

        struct MetricKey: Hashable {
            var name: String
            var labels: [String: String]
            init(_ name: String, _ labels: [String: String]) {
                self.name = name
                self.labels = labels
            }
        }

        /// Every sample as prometheus_client's text parser reads it (it throws on malformed text).
        static func parseWithPrometheusClient(_ exposition: String) throws -> [MetricKey: Double] {
            let file = makeTemporaryDirectory("metrics") + "/metrics.txt"
            try exposition.write(toFile: file, atomically: true, encoding: .utf8)
            let script = """
                import json, sys
                from prometheus_client.parser import text_string_to_metric_families
                out = []
                for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                    for s in family.samples:
                        out.append([s.name, s.labels, s.value])
                print(json.dumps(out))
                """
            let run = try ChildProcess.run("/usr/bin/env", ["python3", "-c", script, file])
            try #require(run.status == 0, "prometheus_client rejected the exposition: \(run.output)")
            let decoded = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [[Any]] ?? []
            var samples: [MetricKey: Double] = [:]
            for entry in decoded {
                guard entry.count == 3, let name = entry[0] as? String, let labels = entry[1] as? [String: String],
                      let value = (entry[2] as? NSNumber)?.doubleValue else { continue }
                samples[MetricKey(name, labels)] = value
            }
            try #require(!samples.isEmpty, "no samples parsed")
            return samples
        }
    }
}
