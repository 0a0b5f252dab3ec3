import FilterPolicy
import HeraldCore
import Testing
@testable import HeraldBroker

@Suite struct BigTopicTests {
    /// Thousands of subscriptions on one topic, made one by one, then churned: every publish must
    /// still reach exactly the right subscriptions, and matcher builds must not go quadratic.
    @Test func churnOnABigTopicStaysExactWithSubQuadraticBuilds() throws {
        let (broker, factory) = try makeBroker()
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("big"), sink: sink, now: 0)
        var live: [UInt64: FilterPolicy?] = [:]
        func color(_ i: Int) -> FilterPolicy? { i % 50 == 0 ? nil : policy("color", "c\(i % 7)") }

        for i in 0..<1_200 {
            try broker.subscribe(handle, sid: UInt64(i), topic: "orders", policy: color(i), ackMode: .auto, credit: 100)
            live[UInt64(i)] = color(i)
        }
        let built = factory.builds.policies.load(ordering: .relaxed)
        #expect(built < 200_000, "full rebuilds on every change would pass about 720 000 policies; got \(built)")

        for i in stride(from: 0, to: 1_200, by: 3) {
            try broker.unsubscribe(handle, sid: UInt64(i))
            live[UInt64(i)] = nil
        }
        for i in 1_200..<1_400 {
            try broker.subscribe(handle, sid: UInt64(i), topic: "orders", policy: color(i + 3), ackMode: .auto, credit: 100)
            live[UInt64(i)] = color(i + 3)
        }
        #expect(broker.subscriptionCount(topic: "orders") == live.count)

        let batch = (0..<8).map { request("orders", "m\($0)", color: "c\($0)") }
        _ = broker.publish(batch)
        #expect(sink.callCount == 1)
        var expected: [String] = []
        for (sid, p) in live {
            for message in batch where AttributeMatcher.holds(p, message.attributes) {
                expected.append("\(sid):\(String(decoding: message.body, as: UTF8.self))")
            }
        }
        let got = sink.deliveries.map { "\($0.sid):\($0.bodyText)" }
        #expect(got.count == expected.count)
        #expect(got.sorted() == expected.sorted())
    }

    /// On a topic big enough for delta matchers, a reload that changes a declared subscription's
    /// policy in place must rebuild the main matcher, or the old policy would keep matching.
    @Test func reloadingAPolicyOnABigTopicAppliesToTheNextPublish() throws {
        let (broker, _) = try makeBroker(topics: [])
        let audit = RecordingEndpoint()
        func config(_ color: String) -> [TopicConfiguration] {
            [TopicConfiguration(name: "orders", subscriptions: [
                ConfiguredSubscription(name: "audit", policy: policy("color", color), target: .endpoint(audit)),
            ])]
        }
        try broker.applyConfiguration(config("red"))
        let handle = try broker.attachSession(SessionID("s"), sink: RecordingSink(), now: 0)
        for i in 0..<(TopicEntry.singleTierThreshold + 20) {
            try broker.subscribe(handle, sid: UInt64(i), topic: "orders", policy: policy("color", "none"), ackMode: .auto, credit: 1)
        }
        try broker.applyConfiguration(config("blue"))
        _ = broker.publish([request("orders", "r", color: "red"), request("orders", "b", color: "blue")])
        #expect(audit.bodies == ["b"])
    }
}
