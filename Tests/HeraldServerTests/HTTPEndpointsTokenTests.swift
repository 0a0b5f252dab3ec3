import Foundation
import HeraldBroker
import HeraldConfig
import HeraldCore
import HeraldNet
import HeraldStore
import HeraldTestSupport
import Synchronization
import Testing
@testable import HeraldServer

/// SNS: "Tokens are valid for 2 days." `HTTPEndpoints` with an injected clock, an in-memory store
/// and a real receiver for the SubscriptionConfirmation.
@Suite struct HTTPEndpointsTokenTests {
    final class Clock: Sendable {
        let millis = Mutex<Int64>(1_800_000_000_000)
        func advance(by delta: Int64) { millis.withLock { $0 += delta } }
        var now: Int64 { millis.withLock { $0 } }
    }

    static func wait<T: Sendable>(_ call: (@escaping @Sendable (T) -> Void) -> Void) -> T? {
        let box = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        call { value in
            box.withLock { $0 = value }
            done.signal()
        }
        _ = done.wait(timeout: .now() + 10)
        return box.withLock { $0 }
    }

    @Test func aTokenExpiresAfterTwoDays() throws {
        let receiver = try TestHTTPReceiver()
        defer { receiver.close() }
        let clock = Clock()
        let store = MemoryLogStore()
        let directory = makeTemporaryDirectory("herald-token")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let signer = try MessageSigner.loadOrCreate(directory: directory)
        let identity = QueueIdentity()
        let renderer = EnvelopeRenderer(signer: signer, version: .v1, identity: identity, signingCertURL: "http://127.0.0.1/cert.pem")
        let manager = QueueManager(store: store, renderer: renderer, identity: identity, clock: { clock.now }, contentHash: SHA256.hex)
        _ = try manager.open()
        let broker = Broker(options: BrokerOptions(), matcherFactory: CompiledMatcherFactory())
        try broker.createTopic("orders")
        let endpoints = try HTTPEndpoints(
            manager: manager, broker: broker, meta: store, renderer: renderer, delivery: HeraldConfig.HTTPDelivery(), log: { _ in },
            clock: { clock.now })
        defer { endpoints.stopAll() }

        func subscribe(_ name: String) throws -> String {
            let record = SubscriptionRecord(
                name: name, topic: "orders", protocol: "http", endpoint: receiver.url("/\(name)"), filterPolicy: nil, filterPolicyScope: nil, raw: false)
            let before = receiver.requestCount
            let stored: Result<Void, HeraldError>? = Self.wait { done in endpoints.subscribe(record, reply: done) }
            guard case .success? = stored else { throw HeraldError(.invalidParameter, "not stored: \(String(describing: stored))") }
            #expect(receiver.waitForRequests(before + 1))
            let document = try JSONParser.parse(try #require(receiver.requests.last).body, limits: .init(maxDepth: 8))
            guard case .string(let token)? = document["Token"] else { throw HeraldError(.invalidParameter, "no token") }
            return token
        }
        let topicArn = identity.topicARN("orders")

        let fresh = try subscribe("fresh")
        clock.advance(by: HTTPEndpoints.tokenLifetimeMillis - 1)
        let inTime: Result<String, HeraldError>? = Self.wait { done in endpoints.confirm(topicArn: topicArn, token: fresh, filterLimits: .init(), reply: done) }
        #expect((try? inTime?.get()) == identity.subscriptionARN(topic: "orders", subscription: "fresh"))

        let stale = try subscribe("stale")
        clock.advance(by: HTTPEndpoints.tokenLifetimeMillis + 1)
        let late: Result<String, HeraldError>? = Self.wait { done in endpoints.confirm(topicArn: topicArn, token: stale, filterLimits: .init(), reply: done) }
        guard case .failure(let error)? = late else {
            Issue.record("an expired token confirmed: \(String(describing: late))")
            return
        }
        #expect(error.message == "Invalid parameter: Token")
        #expect(broker.subscriptionCount(topic: "orders") == 1)  // only `fresh` is routed

        let wrongTopic: Result<String, HeraldError>? = Self.wait { done in endpoints.confirm(topicArn: "orders", token: fresh, filterLimits: .init(), reply: done) }
        if case .failure(let error)? = wrongTopic { #expect(error.message == "Invalid parameter: Topic") } else { Issue.record("a malformed topic ARN was accepted") }
    }
}
