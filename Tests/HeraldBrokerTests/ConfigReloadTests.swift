import FilterPolicy
import HeraldCore
import Testing
@testable import HeraldBroker

@Suite struct ConfigReloadTests {
    @Test func replacingAPolicyAppliesToTheNextPublishAndLeavesStreamsAlone() throws {
        let (broker, _) = try makeBroker(topics: [])
        let audit = RecordingEndpoint()
        try broker.applyConfiguration([
            TopicConfiguration(name: "orders", subscriptions: [
                ConfiguredSubscription(name: "audit", policy: policy("color", "red"), target: .endpoint(audit)),
            ]),
        ])
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 100)

        _ = broker.publish([request("orders", "r1", color: "red"), request("orders", "b1", color: "blue")])
        #expect(audit.bodies == ["r1"])
        #expect(audit.callCount == 1)

        try broker.applyConfiguration([
            TopicConfiguration(name: "orders", subscriptions: [
                ConfiguredSubscription(name: "audit", policy: policy("color", "blue"), target: .endpoint(audit)),
            ]),
        ])
        _ = broker.publish([request("orders", "r2", color: "red"), request("orders", "b2", color: "blue")])
        #expect(audit.bodies == ["r1", "b2"])
        #expect(sink.bodies == ["r1", "b1", "r2", "b2"])
        #expect(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1)?.inFlight == 4)
        #expect(broker.stats.endpointDeliveries == 2)

        // Dropping the declared subscription keeps the topic while a stream uses it.
        try broker.applyConfiguration([])
        _ = broker.publish([request("orders", "b3", color: "blue")])
        #expect(audit.bodies == ["r1", "b2"])
        #expect(sink.bodies.last == "b3")
        #expect(broker.subscriptionCount(topic: "orders") == 1)
    }

    @Test func aTopicThatLeavesTheConfigurationIsDeletedWhenUnused() throws {
        let (broker, _) = try makeBroker(topics: ["keep", "drop"])
        try broker.applyConfiguration([TopicConfiguration(name: "keep")])
        #expect(broker.topicNames() == ["keep"])
        #expect(broker.publish([request("drop", "x")])[0].failure == .topicNotFound(topic: "drop"))
    }

    @Test func addingAndRemovingDeclaredSubscriptions() throws {
        let (broker, _) = try makeBroker(topics: [])
        let a = RecordingEndpoint(), b = RecordingEndpoint()
        try broker.applyConfiguration([
            TopicConfiguration(name: "t", subscriptions: [
                ConfiguredSubscription(name: "a", policy: nil, target: .endpoint(a)),
            ]),
        ])
        _ = broker.publish([request("t", "1")])
        try broker.applyConfiguration([
            TopicConfiguration(name: "t", subscriptions: [
                ConfiguredSubscription(name: "b", policy: nil, target: .endpoint(b)),
            ]),
        ])
        _ = broker.publish([request("t", "2")])
        #expect(a.bodies == ["1"] && b.bodies == ["2"])
        #expect(broker.subscriptionCount(topic: "t") == 1)
    }

    @Test func anInvalidConfigurationChangesNothing() throws {
        let (broker, _) = try makeBroker(topics: []) { $0.maxSubscriptionsPerTopic = 2 }
        let audit = RecordingEndpoint()
        let good = TopicConfiguration(name: "t", subscriptions: [
            ConfiguredSubscription(name: "audit", policy: nil, target: .endpoint(audit)),
        ])
        try broker.applyConfiguration([good])
        let invalid: [[TopicConfiguration]] = [
            [good, TopicConfiguration(name: "bad name")],
            [good, good],
            [TopicConfiguration(name: "t", subscriptions: good.subscriptions + good.subscriptions)],
            [TopicConfiguration(name: "t", subscriptions: (0..<3).map {
                ConfiguredSubscription(name: "s\($0)", policy: nil, target: .endpoint(audit))
            })],
            [TopicConfiguration(name: "t", subscriptions: [
                ConfiguredSubscription(name: "", policy: nil, target: .endpoint(audit)),
            ])],
        ]
        for config in invalid {
            #expect(throws: BrokerError.self) { try broker.applyConfiguration(config) }
        }
        #expect(broker.topicNames() == ["t"])
        _ = broker.publish([request("t", "still")])
        #expect(audit.bodies == ["still"])
    }
}
