import Foundation
import Synchronization
import Testing
import FilterPolicy
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldServer
import HeraldTestSupport

/// A streaming client attached to a configuration subscription by name follows the policy the
/// configuration gives it, through reloads; a rejected reload keeps the running policy.
@Suite struct NamedSubscriptionReloadTests {
    static let certs = TestPaths.certs

    func config(color: String) throws -> HeraldConfig {
        var config = HeraldConfig.defaults(certsDirectory: Self.certs, listen: ListenAddress(host: "127.0.0.1", port: 0))
        config.subscriptions = [HeraldConfig.Subscription(
            name: "colored", topic: "orders", protocol: .stream,
            filterPolicy: try FilterPolicy.parse("{\"color\":[\"\(color)\"]}"))]
        return config
    }

    @Test func reloadChangesDeliveryForTheNextMessage() throws {
        let server = Server(config: try config(color: "red"))
        try server.start()
        defer { server.stop() }
        let port = try #require(server.listenAddresses.first?.port)
        let options = ClientOptions(host: "127.0.0.1", port: port, caFile: Self.certs + "/dev-ca.pem")
        let subscriber = try HeraldClient.connect(options)
        defer { subscriber.close() }
        let received = Mutex<[String]>([])
        _ = try subscriber.subscribe(topic: "orders", subscriptionName: "colored") { delivery in
            received.withLock { $0.append(String(decoding: delivery.body, as: UTF8.self)) }
        }
        let publisher = try HeraldClient.connect(options)
        defer { publisher.close() }
        func publish(_ color: String, _ n: Int) throws {
            _ = try publisher.publish(topic: "orders", attributes: ["color": .string(color)], body: Array("\(color)-\(n)".utf8))
        }
        try publish("red", 1)
        try publish("blue", 1)
        let notes = try server.reload(try config(color: "blue"))
        #expect(notes.contains { $0.contains("colored") })
        try publish("red", 2)
        try publish("blue", 2)
        try publish("blue", 3)  // deliveries keep publish order: once blue-3 is in, red-2 never comes
        waitUntil { received.withLock { $0.contains("blue-3") } }
        #expect(received.withLock { $0 } == ["red-1", "blue-2", "blue-3"])
    }

    @Test func unknownNameAndMismatchedTopicAreRefused() throws {
        let server = Server(config: try config(color: "red"))
        try server.start()
        defer { server.stop() }
        let port = try #require(server.listenAddresses.first?.port)
        let client = try HeraldClient.connect(ClientOptions(host: "127.0.0.1", port: port, caFile: Self.certs + "/dev-ca.pem"))
        defer { client.close() }
        #expect(throws: ClientError.self) { try client.subscribe(topic: "orders", subscriptionName: "nope") { _ in } }
        do {
            _ = try client.subscribe(topic: "payments", subscriptionName: "colored") { _ in }
            Issue.record("a SUB on the wrong topic was accepted")
        } catch {
            #expect(error.code == "InvalidParameter")
        }
    }
}
