import FilterPolicy
import HeraldCore
import Testing
@testable import HeraldBroker

@Suite struct TopicAndLimitTests {
    @Test func withoutAutoCreateUnknownTopicsAreRefusedPerMessage() throws {
        let (broker, _) = try makeBroker()
        let results = broker.publish([request("nope", "a"), request("orders", "b"), request("nope", "c")])
        #expect(results[0].failure == .topicNotFound(topic: "nope"))
        #expect(results[0].failure?.code.rawValue == "NotFound")
        #expect(results[1].success != nil)
        #expect(results[2].failure == .topicNotFound(topic: "nope"))
        #expect(broker.stats.published == 1 && broker.stats.publishRejected == 2)
        let handle = try broker.attachSession(SessionID("s"), sink: RecordingSink(), now: 0)
        #expect(throws: BrokerError.topicNotFound(topic: "nope")) {
            try broker.subscribe(handle, sid: 1, topic: "nope", policy: nil, ackMode: .auto, credit: 1)
        }
        #expect(broker.topicNames() == ["orders"])
    }

    @Test func autoCreateMakesTopicsOnFirstUseAndValidatesNames() throws {
        let (broker, _) = try makeBroker(autoCreate: true, topics: []) { $0.maxTopics = 3 }
        #expect(broker.publish([request("fresh", "a")])[0].success != nil)
        #expect(broker.topicNames() == ["fresh"])
        let bad = broker.publish([request("bad topic!", "a")])[0].failure
        #expect(bad?.code.rawValue == "InvalidParameter")
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        #expect(try broker.subscribe(handle, sid: 1, topic: "later.fifo", policy: nil, ackMode: .auto, credit: 5) == .created)
        _ = broker.publish([PublishRequest(topic: "later.fifo", body: Array("hello".utf8), groupID: "g", deduplicationID: "d")])
        #expect(sink.bodies == ["hello"])
        try broker.createTopic("third")
        try broker.createTopic("third")  // idempotent
        #expect(broker.publish([request("fourth", "a")])[0].failure == .tooManyTopics(limit: 3))
        #expect(throws: BrokerError.tooManyTopics(limit: 3)) {
            try broker.subscribe(handle, sid: 2, topic: "fifth", policy: nil, ackMode: .auto, credit: 1)
        }
    }

    @Test(arguments: [
        ("orders", true), ("a-b_C9", true), ("x.fifo", true), (String(repeating: "a", count: 256), true),
        ("", false), ("has space", false), ("dot.ted", false), (".fifo", false), ("ünï", false),
        (String(repeating: "a", count: 257), false),
    ])
    func topicNameRules(name: String, valid: Bool) {
        // The broker refuses exactly the names HeraldCore's rule refuses, when it creates a topic.
        let broker = Broker(options: BrokerOptions(autoCreateTopics: true), matcherFactory: AttributeMatcherFactory())
        let ok: Bool
        do { try broker.createTopic(name); ok = true } catch { ok = false }
        #expect(ok == valid)
        #expect((TopicName.problem(in: name) == nil) == valid)
    }

    @Test func tenThousandSubscriptionsPerSessionAreAcceptedAndOneMoreIsRefused() throws {
        let topics = (0..<100).map { "t\($0)" }
        let (broker, _) = try makeBroker(topics: topics)
        let handle = try broker.attachSession(SessionID("big"), sink: RecordingSink(), now: 0)
        for i in 0..<10_000 {
            try broker.subscribe(handle, sid: UInt64(i), topic: topics[i % 100], policy: nil, ackMode: .auto, credit: 1)
        }
        let error = #expect(throws: BrokerError.self) {
            try broker.subscribe(handle, sid: 10000, topic: "t0", policy: nil, ackMode: .auto, credit: 1)
        }
        #expect(error == .tooManySubscriptionsForSession(limit: 10_000))
        #expect(error?.code.rawValue == "TooManySubscriptions")
        try broker.unsubscribe(handle, sid: 5)
        try broker.subscribe(handle, sid: 10000, topic: "t0", policy: nil, ackMode: .auto, credit: 1)
    }

    @Test func perTopicSubscriptionLimit() throws {
        let (broker, _) = try makeBroker { $0.maxSubscriptionsPerTopic = 3 }
        for i in 0..<3 {
            let handle = try broker.attachSession(SessionID("s\(i)"), sink: RecordingSink(), now: 0)
            try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 1)
        }
        let handle = try broker.attachSession(SessionID("s3"), sink: RecordingSink(), now: 0)
        #expect(throws: BrokerError.tooManySubscriptionsForTopic(topic: "orders", limit: 3)) {
            try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 1)
        }
    }

    @Test func unsubscribeStopsDeliveriesAndDropsQueuedMessages() throws {
        let (broker, factory) = try makeBroker()
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 1)
        _ = broker.publish([request("orders", "m0"), request("orders", "m1")])
        #expect(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1)?.pending == 1)
        let buildsBefore = factory.builds.count.load(ordering: .relaxed)
        try broker.unsubscribe(handle, sid: 1)
        #expect(factory.builds.count.load(ordering: .relaxed) == buildsBefore)  // empty topic: no matcher to build
        #expect(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1) == nil)
        #expect(broker.subscriptionCount(topic: "orders") == 0)
        _ = broker.publish([request("orders", "m2")])
        #expect(sink.bodies == ["m0"])
        #expect(throws: BrokerError.subscriptionNotFound(sid: 1)) { try broker.unsubscribe(handle, sid: 1) }
        #expect(throws: BrokerError.subscriptionNotFound(sid: 1)) { try broker.ack(handle, sid: 1, tags: [1]) }
    }

    @Test func badArgumentsGetInvalidParameter() throws {
        let (broker, _) = try makeBroker()
        #expect(throws: BrokerError.self) { try broker.attachSession(SessionID(""), sink: RecordingSink(), now: 0) }
        let handle = try broker.attachSession(SessionID("s"), sink: RecordingSink(), now: 0)
        let cases: [() throws -> Void] = [
            { try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: -1) },
            { try broker.addCredit(handle, sid: 3, 0) },
            { try broker.addCredit(handle, sid: 3, -5) },
            { _ = try broker.ack(handle, sid: 3, tags: [1]) },
        ]
        try broker.subscribe(handle, sid: 3, topic: "orders", policy: nil, ackMode: .auto, credit: 1)
        for (i, run) in cases.enumerated() {
            do {
                try run()
                Issue.record("case \(i) was accepted")
            } catch {
                #expect((error as? BrokerError)?.code.rawValue == "InvalidParameter", "case \(i): \(error)")
            }
        }
        #expect(broker.subscriptionCount(topic: "orders") == 1)
    }
}
