import FilterPolicy
import HeraldCore
import Testing
@testable import HeraldBroker

@Suite struct FanOutTests {
    @Test func fanOutDeliversExactlyTheMatchesWithOneSharedPayloadAndOneCallPerSession() throws {
        let (broker, _) = try makeBroker()
        let colors = ["red", "green", "blue"]
        var sinks: [RecordingSink] = []
        var policies: [FilterPolicy?] = []
        for i in 0..<40 {
            let sink = RecordingSink()
            let handle = try broker.attachSession(SessionID("s\(i)"), sink: sink, now: 0)
            let p: FilterPolicy? = i % 4 == 3 ? nil : policy("color", colors[i % 3])
            try broker.subscribe(handle, sid: 1, topic: "orders", policy: p, ackMode: .auto, credit: 100)
            sinks.append(sink)
            policies.append(p)
        }
        let batch: [PublishRequest] = [
            request("orders", "m0", color: "red"), request("orders", "m1", color: "green"),
            request("orders", "m2", color: "red"), request("orders", "m3", color: "blue"),
            request("orders", "m4"),
        ]
        let results = broker.publish(batch)
        let ids = try results.map { try #require($0.success) }
        #expect(Set(ids).count == 5)

        var total = 0
        for (i, sink) in sinks.enumerated() {
            let expected = batch.indices.filter { AttributeMatcher.holds(policies[i], batch[$0].attributes) }
            total += expected.count
            #expect(sink.callCount == (expected.isEmpty ? 0 : 1), "session \(i)")
            let got = sink.deliveries
            #expect(got.map(\.bodyText) == expected.map { "m\($0)" }, "session \(i)")
            #expect(got.map(\.message.id) == expected.map { ids[$0] })
            #expect(got.map(\.deliveryTag) == (0..<got.count).map { UInt64($0 + 1) })
            #expect(got.allSatisfy { !$0.redelivered && $0.sid == 1 && $0.message.topic == "orders" })
            // The very payload buffer the publisher handed in: shared, never copied.
            for delivery in got {
                let index = try #require(expected.first { ids[$0] == delivery.message.id })
                let original = batch[index].body.withUnsafeBufferPointer { $0.baseAddress }
                let delivered = delivery.message.body.withUnsafeBufferPointer { $0.baseAddress }
                #expect(original == delivered)
            }
        }
        #expect(total > 40)  // the policies above do select overlapping subsets
        #expect(broker.stats.streamDeliveries == UInt64(total))
        #expect(broker.stats.published == 5)
    }

    @Test func severalSubscriptionsOfOneSessionShareOneSinkCallPerBatch() throws {
        let (broker, _) = try makeBroker(topics: ["orders", "audit"])
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("one"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 2, topic: "orders", policy: policy("color", "red"), ackMode: .auto, credit: 10)
        try broker.subscribe(handle, sid: 3, topic: "orders", policy: nil, ackMode: .explicit, credit: 10)
        try broker.subscribe(handle, sid: 4, topic: "audit", policy: nil, ackMode: .auto, credit: 10)

        _ = broker.publish([
            request("orders", "a", color: "red"), request("audit", "b"), request("orders", "c", color: "blue"),
        ])
        #expect(sink.callCount == 1)
        let got = sink.deliveries.map { "\($0.sid):\($0.bodyText)" }
        #expect(got.sorted() == ["2:a", "3:a", "3:c", "4:b"])
        // Per subscription, publish order is kept.
        #expect(sink.deliveries.filter { $0.sid == 3 }.map(\.bodyText) == ["a", "c"])
    }

    /// A sink may free a batch's messages where it likes only when no other target holds them.
    @Test func deliveriesAreMarkedSoleHoldersOnlyWhenThePublishReachedOneTarget() throws {
        let (broker, _) = try makeBroker(topics: ["orders", "audit"])
        let first = RecordingSink(), second = RecordingSink()
        let one = try broker.attachSession(SessionID("one"), sink: first, now: 0)
        let two = try broker.attachSession(SessionID("two"), sink: second, now: 0)
        // Two subscriptions of one session are still one target.
        try broker.subscribe(one, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 10)
        try broker.subscribe(one, sid: 2, topic: "orders", policy: policy("color", "red"), ackMode: .auto, credit: 10)
        _ = broker.publish([request("orders", "a", color: "red"), request("orders", "b")])
        #expect(first.soleHolders == [true])

        try broker.subscribe(two, sid: 1, topic: "audit", policy: nil, ackMode: .auto, credit: 10)
        _ = broker.publish([request("orders", "c"), request("audit", "d")])
        #expect(first.soleHolders == [true, false])
        #expect(second.soleHolders == [false])

        // Held back for want of credit, then pushed by a grant: not from a publish, never marked.
        try broker.subscribe(two, sid: 2, topic: "orders", policy: nil, ackMode: .auto, credit: 0)
        try broker.unsubscribe(one, sid: 1)
        try broker.unsubscribe(one, sid: 2)
        _ = broker.publish([request("orders", "e")])
        #expect(second.soleHolders == [false])
        try broker.addCredit(two, sid: 2, 1)
        #expect(second.soleHolders == [false, false])
        #expect(second.deliveries.last?.bodyText == "e")
    }

    @Test func aBatchWithNoMatchesCallsNoSink() throws {
        let (broker, _) = try makeBroker()
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 5, topic: "orders", policy: policy("color", "red"), ackMode: .auto, credit: 10)
        let results = broker.publish([request("orders", "m", color: "blue")])
        #expect(results.count == 1 && results[0].success != nil)
        #expect(sink.callCount == 0)
        #expect(broker.publish([]).isEmpty)
    }

    @Test func messageIDsAreUniqueVersion4UUIDsAndReproducibleWithASeed() throws {
        let (a, _) = try makeBroker()
        let (b, _) = try makeBroker()
        let batch = (0..<50).map { request("orders", "m\($0)") }
        let idsA = a.publish(batch).compactMap(\.success)
        let idsB = b.publish(batch).compactMap(\.success)
        #expect(idsA.count == 50 && Set(idsA).count == 50)
        #expect(idsA == idsB)
        for id in idsA {
            let parts = id.text.split(separator: "-")
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
            #expect(parts[2].first == "4")
        }
    }

    @Test func aStaleRouteNamingAReusedSlotDeliversNothing() throws {
        let (broker, _) = try makeBroker(topics: ["orders", "other"])
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 5, topic: "orders", policy: nil, ackMode: .auto, credit: 10)
        let stale = try #require(broker.routes.withLock { $0["orders"] })
        let oldTarget = try #require(stale.unfiltered[0])
        try broker.unsubscribe(handle, sid: 5)
        try broker.subscribe(handle, sid: 6, topic: "other", policy: nil, ackMode: .auto, credit: 10)
        // The session slot was reused by sid 6; the old snapshot's id no longer matches it.
        let message = Message(id: MessageID(text: "m"), topic: "orders", attributes: [:], body: [1])
        let report = handle.core.state.withLock {
            $0.deliver(DeliverySlice(
                items: [DeliveryItem(slot: oldTarget.slot, subscriptionID: oldTarget.subscriptionID, message: 0, size: 1)],
                range: 0..<1, messages: [message], limits: BrokerLimits()))
        }
        #expect(report.delivered == 0)
        #expect(sink.callCount == 0)
    }
}
