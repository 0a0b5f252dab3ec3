import FilterPolicy
import HeraldCore
import Testing
@testable import HeraldBroker

/// The publish path groups a batch's matches per target (`FanOut.grouped()`): every target gets
/// exactly its matches, each once, in publish order, whatever the interleaving.
@Suite struct FanOutGroupingTests {
    /// A target that only records its slices.
    final class SliceRecorder: DeliveryTarget, @unchecked Sendable {
        var received: [[Int]] = []
        func accept(_ slice: DeliverySlice, effects: inout DeliveryEffects) -> DeliveryReceipt {
            var messages: [Int] = []
            slice.forEach { messages.append($0.message) }
            #expect(messages.count == slice.count)
            received.append(messages)
            return .done
        }
    }

    @Test func groupingKeepsEachTargetsItemsInOrderAndEveryItemOnce() {
        var random = SplitMix64(seed: 7)
        let targets = (0..<13).map { _ in SliceRecorder() }
        var fanOut = FanOut()
        var expected: [[Int]] = Array(repeating: [], count: targets.count)
        for message in 0..<400 {
            for (index, target) in targets.enumerated() where random.next() % 4 == 0 {
                fanOut.add(RouteTarget(target, slot: index, subscriptionID: UInt64(index)), messageIndex: message, size: 1)
                expected[index].append(message)
            }
        }
        let (items, groups) = fanOut.grouped()
        #expect(items.count == expected.reduce(0) { $0 + $1.count })
        #expect(groups.count == expected.filter { !$0.isEmpty }.count)
        var covered = 0
        for group in groups {
            #expect(group.range.lowerBound == covered)  // ranges tile the array
            covered = group.range.upperBound
            var effects = DeliveryEffects()
            _ = group.target.accept(DeliverySlice(items: items, range: group.range, messages: [], limits: BrokerLimits()), effects: &effects)
            #expect(Set(items[group.range].map(\.slot)).count == 1)
        }
        #expect(covered == items.count)
        for (index, target) in targets.enumerated() {
            #expect(target.received == (expected[index].isEmpty ? [] : [expected[index]]), "target \(index)")
        }
    }

    @Test func oneTargetNeedsNoRegrouping() {
        let target = SliceRecorder()
        var fanOut = FanOut()
        for message in 0..<5 { fanOut.add(RouteTarget(target), messageIndex: message, size: 1) }
        let (items, groups) = fanOut.grouped()
        #expect(groups.count == 1 && groups[0].range == 0..<5)
        #expect(items.map(\.message) == [0, 1, 2, 3, 4])
    }

    @Test func seededFanOutDeliversEveryMatchOncePerSubscriptionInPublishOrder() throws {
        let (broker, _) = try makeBroker()
        var random = SplitMix64(seed: 12)
        let colors = ["red", "green", "blue", "cyan", "pink"]
        var sinks: [RecordingSink] = []
        var policies: [[UInt64: FilterPolicy?]] = []
        for i in 0..<50 {
            let sink = RecordingSink()
            let handle = try broker.attachSession(SessionID("s\(i)"), sink: sink, now: 0)
            var mine: [UInt64: FilterPolicy?] = [:]
            for sid in UInt64(1)...UInt64(1 + random.next() % 2) {  // some sessions hold two subscriptions
                let p: FilterPolicy? = random.next() % 6 == 0 ? nil : policy("color", colors[Int(random.next() % 5)])
                try broker.subscribe(handle, sid: sid, topic: "orders", policy: p, ackMode: .auto, credit: 10_000)
                mine[sid] = p
            }
            sinks.append(sink)
            policies.append(mine)
        }
        let batch = (0..<600).map { request("orders", "m\($0)", color: colors[Int(random.next() % 5)]) }
        let ids = try broker.publish(batch).map { try #require($0.success) }
        var total = 0
        for (i, sink) in sinks.enumerated() {
            #expect(sink.callCount <= 1, "session \(i)")
            for (sid, p) in policies[i] {
                let expected = batch.indices.filter { AttributeMatcher.holds(p, batch[$0].attributes) }
                let got = sink.deliveries.filter { $0.sid == sid }
                #expect(got.map(\.message.id) == expected.map { ids[$0] }, "session \(i) sid \(sid)")
                #expect(got.map(\.deliveryTag) == (0..<got.count).map { UInt64($0 + 1) })
                total += expected.count
            }
        }
        #expect(total > 600)
        #expect(broker.stats.streamDeliveries == UInt64(total))
    }

    /// Unfiltered subscriptions repeat the previous message's targets while the topic stays the
    /// same (`FanOut.addUnfiltered`); a batch that switches topics back and forth must still reach
    /// exactly each topic's subscribers, in publish order.
    @Test func interleavedTopicsReachExactlyTheirUnfilteredSubscribers() throws {
        let (broker, _) = try makeBroker(topics: ["orders", "refunds"])
        var random = SplitMix64(seed: 31)
        var sinks: [RecordingSink] = []
        var topicsOf: [[UInt64: String]] = []
        for i in 0..<12 {
            let sink = RecordingSink()
            let handle = try broker.attachSession(SessionID("u\(i)"), sink: sink, now: 0)
            var mine: [UInt64: String] = [:]
            // Some sessions hold one topic, some both, some the same topic twice.
            for sid in UInt64(1)...UInt64(1 + random.next() % 3) {
                let topic = random.next() % 2 == 0 ? "orders" : "refunds"
                try broker.subscribe(handle, sid: sid, topic: topic, policy: nil, ackMode: .auto, credit: 10_000)
                mine[sid] = topic
            }
            sinks.append(sink)
            topicsOf.append(mine)
        }
        // Runs of one topic of random length, then the other.
        var batch: [PublishRequest] = []
        while batch.count < 300 {
            let topic = random.next() % 2 == 0 ? "orders" : "refunds"
            for _ in 0..<(1 + random.next() % 4) { batch.append(request(topic, "m\(batch.count)")) }
        }
        let ids = try broker.publish(batch).map { try #require($0.success) }
        var total = 0
        for (i, sink) in sinks.enumerated() {
            for (sid, topic) in topicsOf[i] {
                let expected = batch.indices.filter { batch[$0].topic == topic }.map { ids[$0] }
                let got = sink.deliveries.filter { $0.sid == sid }
                #expect(got.map(\.message.id) == expected, "session \(i) sid \(sid)")
                total += expected.count
            }
        }
        #expect(broker.stats.streamDeliveries == UInt64(total))
    }
}
