import HeraldCore
import HeraldStore
import Testing
@testable import HeraldBroker

/// SNS `MessageStructure=json` at the queue fan-out: each subscription's queue gets its
/// protocol's text (`QueueSubscriptionRoute.protocolName`), or `default`; one journal record per
/// distinct text, shared by the queues that get it.
@Suite struct MessageStructureFanOutTests {
    @Test func eachQueueGetsItsProtocolsText() throws {
        let store = MemoryLogStore()
        let manager = QueueManagerTests.makeManager(store)
        let routes = [
            QueueSubscriptionRoute(queue: "sqs-raw", subscription: "s1", raw: true),
            QueueSubscriptionRoute(queue: "sqs-env", subscription: "s2", raw: false),
            QueueSubscriptionRoute(queue: "https-q", subscription: "s3", raw: true, protocolName: "https"),
            QueueSubscriptionRoute(queue: "stream-q", subscription: "s4", raw: true, protocolName: "stream"),
        ]
        for route in routes { try QueueManagerTests.create(manager, route.queue) }
        let broker = Broker(matcherFactory: AttributeMatcherFactory(), idSeed: 3)
        try broker.applyConfiguration([TopicConfiguration(name: "t", subscriptions: routes.map {
            ConfiguredSubscription(name: $0.subscription, policy: nil, target: .queue($0, manager))
        })])
        var structured = PublishRequest(topic: "t", body: Array("d".utf8))
        structured.protocolBodies = ProtocolBodies(defaultBody: Array("d".utf8), overrides: ["sqs": Array("s".utf8), "https": Array("h".utf8)])
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        let results = broker.publish([structured, PublishRequest(topic: "t", body: Array("plain".utf8))], congestion: &congestion, receipts: &receipts)
        #expect(results.allSatisfy { $0.success != nil })
        let tracker = try #require(receipts)
        let settled: [(request: Int, error: HeraldError?)] = try QueueManagerTests.wait { done in tracker.whenSettled { done($0) } }
        #expect(settled.allSatisfy { $0.error == nil })

        func bodies(_ queue: String) throws -> [String] {
            try QueueManagerTests.receive(manager, queue).map { String(decoding: $0.body, as: UTF8.self) }
        }
        #expect(try bodies("sqs-raw") == ["s", "plain"])
        #expect(try bodies("sqs-env") == ["envelope:s2:s", "envelope:s2:plain"])
        #expect(try bodies("https-q") == ["h", "plain"])
        #expect(try bodies("stream-q") == ["d", "plain"], "stream subscribers get default")
        var records: [StoredMessage] = []
        try store.replay { record, _ in if case .message(let message) = record { records.append(message) } }
        #expect(records.count == 4, "three texts for the structured publish, one for the plain one")
        #expect(Set(records.prefix(3).map(\.messageID)).count == 1, "one message id, whatever the text")
    }
}
