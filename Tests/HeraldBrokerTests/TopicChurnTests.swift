import FilterPolicy
import HeraldCore
import Testing
@testable import HeraldBroker

/// Subscribe/unsubscribe on big topics: tiered matchers, persistent route tables and compaction
/// must stay exact (every publish reaches exactly the live subscriptions whose policy matches) and
/// cost O(log n) compilations per operation, not O(n).
@Suite struct TopicChurnTests {
    @Test func persistentSlotsMatchAnArrayAndOldCopiesNeverChange() {
        var rng = SplitMix64(seed: 7)
        var slots = PersistentSlots<Int>()
        var model: [Int?] = []
        var snapshots: [(PersistentSlots<Int>, [Int?])] = []
        for step in 0..<20_000 {
            let index = Int(rng.next() % 3_000)
            let value: Int? = rng.next() % 4 == 0 ? nil : step
            if index >= model.count { model += [Int?](repeating: nil, count: index - model.count + 1) }
            model[index] = value
            slots.set(index, value)
            if step % 2_000 == 0 { snapshots.append((slots, model)) }
        }
        for index in -1..<3_100 { #expect(slots[index] == (index >= 0 && index < model.count ? model[index] : nil)) }
        for (snapshot, expected) in snapshots {
            for index in 0..<expected.count where snapshot[index] != expected[index] {
                Issue.record("snapshot changed at \(index)")
                return
            }
        }
        var visited: [Int] = []
        slots.forEach(below: 1_000) { visited.append($0) }
        #expect(visited == model.prefix(1_000).compactMap { $0 })
    }

    /// Random subscribes (with and without policies), unsubscribes, in-place policy changes (a
    /// reload of a named subscription) and compactions at random points, past the sealed tier size:
    /// after each round every publish must reach exactly the expected subscriptions.
    @Test func randomChurnWithCompactionStaysExact() throws {
        let (broker, _) = try makeBroker()
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("churn"), sink: sink, now: 0)
        var rng = SplitMix64(seed: 2_026)
        var live: [UInt64: (policy: FilterPolicy?, tag: String?)] = [:]
        var tagPolicy: [String: FilterPolicy?] = ["t0": policy("color", "c1"), "t1": nil]
        var next = 0
        func randomPolicy() -> FilterPolicy? { rng.next() % 10 == 0 ? nil : policy("color", "c\(rng.next() % 9)") }

        for round in 0..<12 {
            let adds = round < 6 ? 900 : 150
            for _ in 0..<adds {
                let sid = UInt64(next)
                next += 1
                if rng.next() % 40 == 0 {
                    let tag = rng.next() % 2 == 0 ? "t0" : "t1"
                    let p = tagPolicy[tag] ?? nil
                    try broker.subscribe(handle, sid: sid, topic: "orders", policy: p, ackMode: .auto, credit: 1_000_000, tag: tag)
                    live[sid] = (p, tag)
                } else {
                    let p = randomPolicy()
                    try broker.subscribe(handle, sid: sid, topic: "orders", policy: p, ackMode: .auto, credit: 1_000_000)
                    live[sid] = (p, nil)
                }
            }
            for sid in live.keys.sorted() where rng.next() % 5 == 0 {
                try broker.unsubscribe(handle, sid: sid)
                live[sid] = nil
            }
            if round % 3 == 1 {
                let tag = round % 2 == 0 ? "t0" : "t1"
                let p: FilterPolicy? = rng.next() % 3 == 0 ? nil : policy("color", "c\(rng.next() % 9)")
                tagPolicy[tag] = p
                broker.replacePolicy(p, forTag: tag)
                for (sid, entry) in live where entry.tag == tag { live[sid] = (p, tag) }
            }
            if rng.next() % 2 == 0 { broker.compactRoutes() }
            if rng.next() % 3 == 0 { broker.compactRoutes() }

            sink.reset()
            let batch = (0..<10).map { request("orders", "m\($0)", color: "c\($0)") }
            _ = broker.publish(batch)
            var expected: [String] = []
            for (sid, entry) in live {
                for message in batch where AttributeMatcher.holds(entry.policy, message.attributes) {
                    expected.append("\(sid):\(String(decoding: message.body, as: UTF8.self))")
                }
            }
            let got = sink.deliveries.map { "\($0.sid):\($0.bodyText)" }
            #expect(got.count == expected.count, "round \(round)")
            #expect(got.sorted() == expected.sorted(), "round \(round)")
        }
        #expect(broker.subscriptionCount(topic: "orders") == live.count)
    }

    /// 20,000 filtered subscriptions made one at a time: each policy is compiled O(log n) times
    /// (full rebuilds on every change would compile 200 million), and two compactions — one while
    /// the topic churned, one once it is quiet — leave a single matcher.
    @Test func subscribingOneByOneCompilesEachPolicyLogarithmicallyOften() throws {
        let count = 20_000
        let (broker, factory) = try makeBroker { $0.maxSubscriptionsPerSession = count }
        let handle = try broker.attachSession(SessionID("big"), sink: RecordingSink(), now: 0)
        for i in 0..<count {
            try broker.subscribe(handle, sid: UInt64(i), topic: "orders", policy: policy("id", "v\(i)"), ackMode: .auto, credit: 1)
        }
        let compiled = factory.builds.policies.load(ordering: .relaxed)
        #expect(compiled < UInt64(count * 16), "compiled \(compiled) policies for \(count) subscriptions")
        let tiers = broker.registry.withLock { $0.topics["orders"]?.tierCount ?? 0 }
        #expect(tiers > 1 && tiers <= 24, "tiers: \(tiers)")
        broker.compactRoutes()  // first look after a change: only sealed tiers
        broker.compactRoutes()  // quiet: everything
        #expect(broker.registry.withLock { $0.topics["orders"]?.tierCount } == 1)
        #expect(broker.compactRoutes() == 0)
    }

    @Test func serverWideSubscriptionLimitIsSNSSubscriptionLimitExceeded() throws {
        let (broker, _) = try makeBroker(topics: ["a", "b"]) { $0.maxSubscriptions = 3 }
        let handle = try broker.attachSession(SessionID("s"), sink: RecordingSink(), now: 0)
        try broker.subscribe(handle, sid: 1, topic: "a", policy: nil, ackMode: .auto, credit: 1)
        try broker.subscribe(handle, sid: 2, topic: "b", policy: nil, ackMode: .auto, credit: 1)
        try broker.subscribe(handle, sid: 3, topic: "b", policy: policy("k", "v"), ackMode: .auto, credit: 1)
        let error = #expect(throws: BrokerError.self) {
            try broker.subscribe(handle, sid: 4, topic: "a", policy: nil, ackMode: .auto, credit: 1)
        }
        #expect(error == .tooManySubscriptions(limit: 3))
        #expect(error?.code.rawValue == "SubscriptionLimitExceeded")
        try broker.unsubscribe(handle, sid: 2)
        try broker.subscribe(handle, sid: 4, topic: "a", policy: nil, ackMode: .auto, credit: 1)
        // Configuration subscriptions count too.
        let endpoint = RecordingEndpoint()
        #expect(throws: BrokerError.tooManySubscriptions(limit: 3)) {
            try broker.applyConfiguration([
                TopicConfiguration(name: "a", subscriptions: [ConfiguredSubscription(name: "x", policy: nil, target: .endpoint(endpoint))]),
                TopicConfiguration(name: "b"),
            ])
        }
    }

    @Test func perTopicLimitIsSNSSubscriptionLimitExceeded() throws {
        let (broker, _) = try makeBroker { $0.maxSubscriptionsPerTopic = 1 }
        let handle = try broker.attachSession(SessionID("s"), sink: RecordingSink(), now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 1)
        let error = #expect(throws: BrokerError.self) {
            try broker.subscribe(handle, sid: 2, topic: "orders", policy: nil, ackMode: .auto, credit: 1)
        }
        #expect(error?.code.rawValue == "SubscriptionLimitExceeded")
        #expect(HeraldErrorCode.all.contains(HeraldErrorCode(rawValue: "SubscriptionLimitExceeded")))
    }
}
