// Shared by the HTTP/S push suites: a started server with a data directory and the HTTP API
// (`PushServer`), and small readers for what a receiver got (`HTTPPush`).
import Dispatch
import Foundation
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldTestSupport
import HeraldWire
import Testing
@testable import HeraldServer

/// A started server with `http:` and a data directory; `configure` adds topics and subscriptions.
/// Deliveries trust the dev CA (`httpDelivery.caFile`), so a `TestHTTPReceiver(tls: true)` is reachable.
final class PushServer: Sendable {
    let server: Server
    let port: Int
    let apiPort: Int
    let directory: String

    init(directory: String? = nil, _ configure: (inout HeraldConfig) -> Void = { _ in }) throws {
        self.directory = directory ?? makeTemporaryDirectory("herald-http-push")
        var config = TestServer.baseConfig()
        config.dataDir = self.directory + "/data"
        config.http = HeraldConfig.HTTPAPI(listen: ListenAddress(host: "127.0.0.1", port: 0))
        config.httpDelivery.caFile = TestPaths.ca
        configure(&config)
        server = Server(config: config)
        try server.start()
        port = try #require(server.listenAddresses.first).port
        apiPort = try #require(server.httpAPIPort)
    }

    func client() throws -> HeraldClient {
        try HeraldClient.connect(ClientOptions(host: "127.0.0.1", port: port, caFile: TestPaths.ca, connectTimeout: .seconds(10)))
    }

    /// Stops serving and closes the journal; `removing: false` keeps the directory for a restart.
    func shutDown(removing: Bool = true) {
        server.stop()
        server.closeStore()
        if removing { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// A subscription's delivery counters (`Delivered`, `Retried`, `Failed`, `DeadLettered`) as
    /// GetSubscriptionAttributes reports them for a config-declared subscription, by name.
    func counters(_ subscription: String, topic: String = "orders", client: HeraldClient) throws -> HTTPPush.Counters {
        let attributes = try client.subscriptionAttributes(arn: HTTPPush.subscriptionArn(topic: topic, subscription))
        return HTTPPush.Counters(
            delivered: attributes["Delivered"].flatMap { Int($0) }, retried: attributes["Retried"].flatMap { Int($0) },
            failed: attributes["Failed"].flatMap { Int($0) }, deadLettered: attributes["DeadLettered"].flatMap { Int($0) })
    }

    /// Messages left in a queue (visible, in flight and delayed); nil when there is no such queue.
    func messagesIn(_ queue: String) -> Int? {
        server.queueManager?.summary(queue).map { $0.visible + $0.inFlight + $0.delayed }
    }

    /// Messages left in an HTTP/S subscription's own delivery queue.
    func pendingDeliveries(_ subscription: String) -> Int? { messagesIn(HTTPEndpoints.queueName(subscription)) }
}

enum HTTPPush {
    static let topicArn = "arn:aws:sns:us-east-1:000000000000:orders"

    static func subscriptionArn(topic: String = "orders", _ subscription: String) -> String {
        "arn:aws:sns:us-east-1:000000000000:\(topic):\(subscription)"
    }

    /// The counters of one subscription; nil where GetSubscriptionAttributes gave none.
    struct Counters: Equatable, CustomStringConvertible {
        var delivered, retried, failed, deadLettered: Int?
        var description: String {
            "Delivered \(delivered.map(String.init) ?? "-") Retried \(retried.map(String.init) ?? "-") "
                + "Failed \(failed.map(String.init) ?? "-") DeadLettered \(deadLettered.map(String.init) ?? "-")"
        }
    }

    static func subscription(_ name: String, topic: String = "orders", endpoint: String, raw: Bool = false) -> HeraldConfig.Subscription {
        var subscription = HeraldConfig.Subscription(
            name: name, topic: topic, protocol: endpoint.hasPrefix("https") ? .https : .http, rawMessageDelivery: raw)
        subscription.endpoint = endpoint
        return subscription
    }

    /// A subscription `DeliveryPolicy` from SNS's JSON (the real parser, as the config loader uses it).
    static func deliveryPolicy(_ json: String, raw: Bool = false) throws -> HTTPDeliveryPolicy {
        try HTTPDeliveryPolicy.parse(Array(json.utf8), rawMessageDelivery: raw)
    }

    static func json(_ request: HTTPRequest) throws -> JSONValue {
        try JSONParser.parse(request.body, limits: .init(maxDepth: 16))
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    /// The `x-amz-sns-message-id` of every request a receiver got, in order.
    static func messageIDs(_ receiver: TestHTTPReceiver) -> [String] {
        receiver.requests.compactMap { $0.headers["x-amz-sns-message-id"] }
    }

    static func get(_ client: HTTPClient, _ url: String) throws -> HTTPResponse {
        let parsed = try HTTPURL(url)
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        client.send(HTTPRequest(method: "GET", target: "/"), to: parsed, timeout: .seconds(10)) { result in
            box.result = result
            done.signal()
        }
        done.wait()
        return try #require(box.result).get()
    }
}

/// Written by the client's callback before the semaphore is signalled, read after the wait.
private final class ResponseBox: @unchecked Sendable {
    var result: Result<HTTPResponse, HTTPClientError>?
}
