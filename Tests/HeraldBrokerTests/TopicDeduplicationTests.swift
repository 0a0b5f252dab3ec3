import HeraldCore
import Synchronization
import Testing
@testable import HeraldBroker

/// A clock tests move by hand (nanoseconds).
final class ManualClock: Sendable {
    let value = Atomic<UInt64>(1_000)
    func advance(by nanoseconds: UInt64) { value.wrappingAdd(nanoseconds, ordering: .relaxed) }
    var read: @Sendable () -> UInt64 { { [self] in value.load(ordering: .relaxed) } }
}

@Suite struct TopicDeduplicationTests {
    static let second: UInt64 = 1_000_000_000
    static let fifoWindow = TopicDeduplicationPolicy.fifoWindowNanoseconds

    /// A broker with `topics`, each with one recording endpoint subscription, on a manual clock.
    func makeBroker(
        _ topics: [TopicConfiguration], autoCreate: Bool = false
    ) throws -> (Broker, ManualClock, [String: RecordingEndpoint]) {
        let clock = ManualClock()
        let broker = Broker(
            options: BrokerOptions(autoCreateTopics: autoCreate), matcherFactory: AttributeMatcherFactory(), idSeed: 7,
            clock: clock.read)
        var endpoints: [String: RecordingEndpoint] = [:]
        var configured: [TopicConfiguration] = []
        for var topic in topics {
            let endpoint = RecordingEndpoint()
            endpoints[topic.name] = endpoint
            topic.subscriptions = [ConfiguredSubscription(name: "probe", policy: nil, target: .endpoint(endpoint))]
            configured.append(topic)
        }
        try broker.applyConfiguration(configured)
        return (broker, clock, endpoints)
    }

    func fifo(_ body: String, dedup: String? = nil, topic: String = "orders.fifo") -> PublishRequest {
        PublishRequest(topic: topic, body: Array(body.utf8), groupID: "g", deduplicationID: dedup)
    }

    func keyed(_ body: String, key: String?, topic: String = "orders") -> PublishRequest {
        var attributes: MessageAttributes = [:]
        if let key { attributes["request-id"] = .string(key) }
        return PublishRequest(topic: topic, attributes: attributes, body: Array(body.utf8))
    }

    // MARK: - FIFO topics

    @Test func aFIFODuplicateInsideTheWindowGetsTheFirstIDAndIsDeliveredNowhere() throws {
        let (broker, clock, endpoints) = try makeBroker([TopicConfiguration(name: "orders.fifo")])
        let first = try #require(broker.publish([fifo("one", dedup: "d1")]).first?.success)
        clock.advance(by: Self.fifoWindow - 1)
        let again = try #require(broker.publish([fifo("one again", dedup: "d1")]).first?.success)
        #expect(again == first)
        #expect(endpoints["orders.fifo"]?.bodies == ["one"])
        #expect(broker.stats.publishDeduplicated == 1 && broker.stats.published == 1 && broker.stats.publishRejected == 0)
        // A different id is a different message.
        let other = try #require(broker.publish([fifo("two", dedup: "d2")]).first?.success)
        #expect(other != first)
        #expect(endpoints["orders.fifo"]?.bodies == ["one", "two"])
    }

    @Test func afterTheWindowTheSameIDIsANewMessage() throws {
        let (broker, clock, endpoints) = try makeBroker([TopicConfiguration(name: "orders.fifo")])
        let first = try #require(broker.publish([fifo("one", dedup: "d1")]).first?.success)
        clock.advance(by: Self.fifoWindow)
        let later = try #require(broker.publish([fifo("one later", dedup: "d1")]).first?.success)
        #expect(later != first)
        #expect(endpoints["orders.fifo"]?.bodies == ["one", "one later"])
        #expect(broker.stats.publishDeduplicated == 0)
    }

    @Test func contentBasedDeduplicationKeysOnTheBodyHashAndAnExplicitIDOverridesIt() throws {
        let policy = TopicDeduplicationPolicy.fifo(contentBasedDeduplication: true)
        let (broker, _, endpoints) = try makeBroker([TopicConfiguration(name: "orders.fifo", deduplication: policy)])
        let results = broker.publish([fifo("Test"), fifo("Test"), fifo("Other"), fifo("Test", dedup: "explicit")])
        let ids = results.map(\.success)
        #expect(ids.allSatisfy { $0 != nil })
        #expect(ids[1] == ids[0] && ids[2] != ids[0] && ids[3] != ids[0])
        #expect(endpoints["orders.fifo"]?.bodies == ["Test", "Other", "Test"])
        // SNS forwards the generated id: the lower-case hex SHA-256 of the body.
        let delivered = endpoints["orders.fifo"]?.calls.withLock { $0.flatMap { $0 } } ?? []
        #expect(delivered.first?.deduplicationID == "532eaabd9574880dbf76b9b8cc00832c20a6ec113d682299550d7a6e0f345e25")
        #expect(delivered.last?.deduplicationID == "explicit")
    }

    /// `publish(taking:)` moves accepted requests' attributes and bodies into the messages and
    /// drops those of the duplicate and the refused one (the batch is taken whole), and
    /// content-based keys are still taken from each request's own body, before it is moved.
    @Test func publishTakingMovesAcceptedBodiesAndKeepsContentDeduplication() throws {
        let policy = TopicDeduplicationPolicy.fifo(contentBasedDeduplication: true)
        let (broker, _, endpoints) = try makeBroker([TopicConfiguration(name: "orders.fifo", deduplication: policy)])
        var attributed = fifo("Test")
        attributed.attributes = ["color": .string("red")]
        var batch = [attributed, fifo("Test"), PublishRequest(topic: "orders.fifo", body: Array("no group".utf8)), fifo("Other")]
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        let results = broker.publish(taking: &batch, congestion: &congestion, receipts: &receipts)
        #expect(results[1].success == results[0].success)  // the duplicate got the first id
        #expect(results[2].success == nil)  // refused: no group id
        #expect(endpoints["orders.fifo"]?.bodies == ["Test", "Other"])
        let delivered = endpoints["orders.fifo"]?.calls.withLock { $0.flatMap { $0 } } ?? []
        #expect(delivered.first?.attributes["color"] == .string("red"))
        // Every request was emptied: the accepted ones moved, the duplicate and the refused one dropped.
        #expect(batch.map(\.body.count) == [0, 0, 0, 0])
        #expect(batch[0].attributes.isEmpty)
    }

    /// With `count`, only the batch's first requests are published; the rest stay as they were.
    @Test func publishTakingACountLeavesTheRestAlone() throws {
        let (broker, _, endpoints) = try makeBroker([TopicConfiguration(name: "orders")])
        var batch = ["a", "b", "c"].map { PublishRequest(topic: "orders", body: Array($0.utf8)) }
        var congestion: PublishCongestion?
        var receipts: PublishReceipts?
        let results = broker.publish(taking: &batch, count: 2, congestion: &congestion, receipts: &receipts)
        #expect(results.count == 2 && results.allSatisfy { $0.success != nil })
        #expect(endpoints["orders"]?.bodies == ["a", "b"])
        #expect(batch.map(\.body) == [[], [], Array("c".utf8)])
        #expect(broker.publish(taking: &batch, count: 0, congestion: &congestion, receipts: &receipts).isEmpty)
        #expect(broker.publish(taking: &batch, count: 7, congestion: &congestion, receipts: &receipts).count == 3)
    }

    @Test func aFIFOPublishWithoutAnIDOrContentBasedDeduplicationIsRefusedWithSNSsText() throws {
        let (broker, _, endpoints) = try makeBroker([TopicConfiguration(name: "orders.fifo")])
        let results = broker.publish([fifo("no id"), fifo("empty id", dedup: ""), fifo("ok", dedup: "d")])
        let text = "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"
        #expect(results[0].failure?.message == text && results[0].failure?.code == .invalidParameter)
        #expect(results[1].failure?.message == text)
        #expect(results[2].success != nil)
        #expect(endpoints["orders.fifo"]?.bodies == ["ok"])
        #expect(broker.stats.publishRejected == 2)
        // The group id is checked first, as SNS does.
        let ungrouped = broker.publish([PublishRequest(topic: "orders.fifo", body: [1])])
        #expect(ungrouped.first?.failure?.message == "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    }

    @Test func aDeduplicationIDOnAStandardTopicIsRefusedWithSNSsText() throws {
        let (broker, _, endpoints) = try makeBroker([TopicConfiguration(name: "orders")])
        let results = broker.publish([
            PublishRequest(topic: "orders", body: [1], deduplicationID: "d"),
            PublishRequest(topic: "orders", body: [2], groupID: "g"),  // allowed on standard topics (fair queues)
        ])
        #expect(results[0].failure?.message
            == "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
        #expect(results[1].success != nil)
        #expect(endpoints["orders"]?.callCount == 1)
    }

    @Test func autoCreatedFIFOTopicsDeduplicateWithoutContentBasedIDs() throws {
        let (broker, _, _) = try makeBroker([], autoCreate: true)
        let results = broker.publish([fifo("a", dedup: "x", topic: "new.fifo"), fifo("b", dedup: "x", topic: "new.fifo"), fifo("c", topic: "new.fifo")])
        #expect(results[0].success != nil && results[1].success == results[0].success)
        #expect(results[2].failure?.message.contains("ContentBasedDeduplication enabled") == true)
        // Standard auto-created topics do not deduplicate.
        let plain = broker.publish([PublishRequest(topic: "plain", body: [1]), PublishRequest(topic: "plain", body: [1])])
        #expect(plain[0].success != nil && plain[1].success != nil && plain[0].success != plain[1].success)
    }

    @Test func theSameKeyTwiceInOneBatchDeliversOnlyTheFirst() throws {
        let (broker, _, endpoints) = try makeBroker([TopicConfiguration(name: "orders.fifo")])
        let results = broker.publish([fifo("first", dedup: "k"), fifo("second", dedup: "k"), fifo("third", dedup: "j")])
        #expect(results[0].success != nil && results[1].success == results[0].success && results[2].success != results[0].success)
        #expect(endpoints["orders.fifo"]?.bodies == ["first", "third"])
        #expect(broker.stats.publishDeduplicated == 1 && broker.stats.published == 2)
    }

    // MARK: - Idempotency keys on standard topics

    @Test func anAttributeKeyDeduplicatesWithinItsWindowAndMessagesWithoutItPassThrough() throws {
        let policy = TopicDeduplicationPolicy(window: .seconds(10), key: .attribute("request-id"))
        let (broker, clock, endpoints) = try makeBroker([TopicConfiguration(name: "orders", deduplication: policy)])
        let results = broker.publish([
            keyed("a", key: "r1"), keyed("a retry", key: "r1"), keyed("no key", key: nil), keyed("no key", key: nil),
            keyed("b", key: "r2"),
        ])
        #expect(results[1].success == results[0].success)
        #expect(results[2].success != nil && results[3].success != nil && results[2].success != results[3].success)
        #expect(endpoints["orders"]?.bodies == ["a", "no key", "no key", "b"])
        clock.advance(by: 9 * Self.second)
        #expect(broker.publish([keyed("a late retry", key: "r1")]).first?.success == results[0].success)
        clock.advance(by: Self.second)
        #expect(broker.publish([keyed("a new", key: "r1")]).first?.success != results[0].success)
        #expect(endpoints["orders"]?.bodies == ["a", "no key", "no key", "b", "a new"])
        #expect(broker.stats.publishDeduplicated == 2)
    }

    @Test func aBodyKeyDeduplicatesEqualBodies() throws {
        let policy = TopicDeduplicationPolicy(window: .seconds(60), key: .body)
        let (broker, _, endpoints) = try makeBroker([TopicConfiguration(name: "orders", deduplication: policy)])
        let results = broker.publish([keyed("same", key: "1"), keyed("same", key: "2"), keyed("different", key: "1")])
        #expect(results[1].success == results[0].success && results[2].success != results[0].success)
        #expect(endpoints["orders"]?.bodies == ["same", "different"])
    }

    @Test func longAndBinaryAttributeValuesAreKeyedByHashWithoutCollidingWithText() throws {
        let policy = TopicDeduplicationPolicy(window: .seconds(60), key: .attribute("k"))
        let deduplicator = TopicDeduplicator(policy: policy)
        func key(_ value: MessageAttributeValue) -> String? {
            let request = PublishRequest(topic: "t", attributes: ["k": value], body: [])
            if case .key(let key) = deduplicator.key(for: request, contentHash: SHA256.hex) { return key }
            return nil
        }
        let long = String(repeating: "x", count: 10_000)
        #expect(key(.string(long))?.utf8.count == 65)
        #expect(key(.string(long)) == key(.string(long)) && key(.string(long)) != key(.string(long + "y")))
        #expect(key(.binary([0x61])) != key(.string("a")) && key(.binary([1, 2])) == key(.binary([1, 2])))
    }

    @Test func configurationsThatCannotApplyAreRefusedAndAReloadKeepsTheKeys() throws {
        let broker = Broker(matcherFactory: AttributeMatcherFactory())
        let idempotency = TopicDeduplicationPolicy(window: .seconds(5), key: .attribute("id"))
        let refused: [TopicConfiguration] = [
            TopicConfiguration(name: "orders.fifo", deduplication: idempotency),
            TopicConfiguration(name: "orders", deduplication: .fifo(contentBasedDeduplication: false)),
            TopicConfiguration(name: "orders", deduplication: TopicDeduplicationPolicy(windowNanoseconds: 0, key: .body)),
            TopicConfiguration(name: "orders", deduplication: TopicDeduplicationPolicy(window: .seconds(5), key: .attribute(""))),
        ]
        for topic in refused {
            #expect(throws: BrokerError.self) { try broker.applyConfiguration([topic]) }
        }
        #expect(broker.topicNames().isEmpty)
        let (keeping, _, _) = try makeBroker([TopicConfiguration(name: "orders", deduplication: idempotency)])
        let first = keeping.publish([PublishRequest(topic: "orders", attributes: ["id": .string("1")], body: [])])
        try keeping.applyConfiguration([TopicConfiguration(name: "orders", deduplication: idempotency)])
        let second = keeping.publish([PublishRequest(topic: "orders", attributes: ["id": .string("1")], body: [])])
        #expect(first[0].success != nil && second[0].success == first[0].success)
        // Removing the policy stops deduplication.
        try keeping.applyConfiguration([TopicConfiguration(name: "orders")])
        let third = keeping.publish([PublishRequest(topic: "orders", attributes: ["id": .string("1")], body: [])])
        #expect(third[0].success != nil && third[0].success != first[0].success)
    }

    // MARK: - Memory

    @Test func expiredKeysAreDroppedAsNewOnesArrive() {
        let deduplicator = TopicDeduplicator(policy: TopicDeduplicationPolicy(windowNanoseconds: 100, key: .body))
        var now: UInt64 = 0
        for round in 0..<50 {
            for index in 0..<1_000 {
                #expect(deduplicator.admit("\(round)-\(index)", id: MessageID(high: 0, low: UInt64(index)), now: now) == nil)
            }
            now += 100  // every key of the round has expired by the next round
        }
        // Only the last round's keys are live; the ring holds no more than twice that.
        #expect(deduplicator.keyCount == 1_000)
        #expect(deduplicator.ringCount <= 2_000)
        #expect(deduplicator.admit("49-0", id: MessageID(high: 1, low: 1), now: now - 1) == MessageID(high: 0, low: 0))
        #expect(deduplicator.admit("0-0", id: MessageID(high: 1, low: 2), now: now) == nil)
    }

    @Test func theKeyCountIsCappedEvenInsideTheWindow() {
        let deduplicator = TopicDeduplicator(policy: TopicDeduplicationPolicy(windowNanoseconds: .max, key: .body), maxKeys: 100)
        for index in 0..<1_000 {
            _ = deduplicator.admit("k\(index)", id: MessageID(high: 0, low: UInt64(index)), now: UInt64(index))
        }
        #expect(deduplicator.keyCount == 100)
        // The newest keys are the ones kept.
        #expect(deduplicator.admit("k999", id: MessageID(high: 9, low: 9), now: 2_000) == MessageID(high: 0, low: 999))
        #expect(deduplicator.admit("k0", id: MessageID(high: 9, low: 9), now: 2_000) == nil)
    }
}
