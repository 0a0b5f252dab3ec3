import HeraldCore
import Testing
@testable import HeraldBroker

/// Broker answers that docs/PROTOCOL.md names: a sid in use is `DuplicateSubscription` (§3 SUB,
/// §7.1), and a FIFO topic needs a message group (§8, SNS's text).
@Suite struct ProtocolRuleTests {
    @Test func aSidInUseIsDuplicateSubscriptionAndChangesNothing() throws {
        let (broker, _) = try makeBroker(topics: ["orders", "other"])
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 7, topic: "orders", policy: nil, ackMode: .auto, credit: 5)
        for (topic, mode) in [("orders", AckMode.auto), ("other", .explicit)] {
            #expect(throws: BrokerError.duplicateSubscription(sid: 7)) {
                try broker.subscribe(handle, sid: 7, topic: topic, policy: nil, ackMode: mode, credit: 5)
            }
        }
        let error = BrokerError.duplicateSubscription(sid: 7)
        #expect(error.code == .duplicateSubscription)
        #expect(error.message == "sid 7 is already subscribed on this connection; UNSUB it first or use another sid")
        #expect(BrokerError.subscriptionNotFound(sid: 7).message == "No subscription with sid 7")
        #expect(broker.subscriptionCount(topic: "orders") == 1 && broker.subscriptionCount(topic: "other") == 0)
        _ = broker.publish([request("orders", "m0")])
        #expect(sink.bodies == ["m0"])
    }

    /// Every code a client can get from the broker is in the catalog (PROTOCOL.md §7.1). Keep the
    /// list to one value per `BrokerError` / `DisconnectReason` case.
    @Test func everyBrokerCodeIsInTheCatalog() {
        let errors: [BrokerError] = [
            .topicNotFound(topic: "t"), .subscriptionNotFound(sid: 1), .invalidParameter("x"),
            .tooManySubscriptionsForSession(limit: 1), .tooManySubscriptionsForTopic(topic: "t", limit: 1),
            .tooManyTopics(limit: 1), .sessionClosed, .duplicateSubscription(sid: 1),
            .sessionOwnedByAnotherIdentity(session: "s"), .sessionNotIssued(session: "s"),
        ]
        let codes = errors.map(\.code) + [DisconnectReason.slowConsumer, .sessionTakenOver].map(\.code)
        for code in codes { #expect(HeraldErrorCode.all.contains(code), "\(code)") }
    }

    @Test func aFIFOTopicRefusesAPublishWithoutAMessageGroup() throws {
        let (broker, _) = try makeBroker(topics: ["orders.fifo", "orders"])
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders.fifo", policy: nil, ackMode: .auto, credit: 10)
        let results = broker.publish([
            PublishRequest(topic: "orders.fifo", body: Array("no group".utf8)),
            PublishRequest(topic: "orders.fifo", body: Array("grouped".utf8), groupID: "g1", deduplicationID: "d1"),
            PublishRequest(topic: "orders.fifo", body: Array("empty group".utf8), groupID: ""),
            PublishRequest(topic: "orders", body: Array("standard".utf8)),
        ])
        let required = BrokerError.invalidParameter("The MessageGroupId parameter is required for FIFO topics")
        #expect(results.map(\.failure) == [required, nil, required, nil])
        #expect(required.code.rawValue == "InvalidParameter")
        #expect(required.message == "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
        #expect(sink.bodies == ["grouped"] && sink.deliveries.first?.message.groupID == "g1")
        #expect(broker.stats.published == 2 && broker.stats.publishRejected == 2)
    }

    @Test func anAutoCreatedFIFOTopicNeedsAGroupToo() throws {
        let (broker, _) = try makeBroker(autoCreate: true, topics: [])
        let results = broker.publish([PublishRequest(topic: "new.fifo", body: Array("x".utf8))])
        #expect(results.first?.failure?.message == "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
        // An unknown topic is still NotFound first when topics are not created on demand.
        let (strict, _) = try makeBroker(topics: [])
        #expect(strict.publish([PublishRequest(topic: "missing.fifo", body: Array("x".utf8))]).first?.failure
            == .topicNotFound(topic: "missing.fifo"))
    }
}
