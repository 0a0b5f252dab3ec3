import Dispatch
import FilterPolicy
import HeraldCore
import Synchronization
import Testing
@testable import HeraldBroker

@Suite struct ConcurrencyTests {
    @Test func concurrentPublishersWhileSubscriptionsChurnGiveConsistentTotals() throws {
        let (broker, _) = try makeBroker()
        let all = RecordingSink(), reds = RecordingSink()
        let endpoint = RecordingEndpoint()
        try broker.applyConfiguration([
            TopicConfiguration(name: "orders", subscriptions: [
                ConfiguredSubscription(name: "archive", policy: nil, target: .endpoint(endpoint)),
            ]),
        ])
        let allHandle = try broker.attachSession(SessionID("all"), sink: all, now: 0)
        let redHandle = try broker.attachSession(SessionID("reds"), sink: reds, now: 0)
        try broker.subscribe(allHandle, sid: "x", topic: "orders", policy: nil, ackMode: .auto, credit: 1_000_000)
        try broker.subscribe(redHandle, sid: "x", topic: "orders", policy: policy("color", "red"), ackMode: .explicit, credit: 10_000)

        let publishers = 4, batches = 250, perBatch = 4
        let ids = Mutex<[MessageID]>([])
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: publishers + 1) { worker in
            if worker == publishers {
                // Another client subscribing and leaving the whole time: routes are rebuilt under the
                // publishers' feet.
                do {
                    let churn = try broker.attachSession(SessionID("churn"), sink: RecordingSink(), now: 0)
                    for i in 0..<300 {
                        try broker.subscribe(churn, sid: "c\(i)", topic: "orders", policy: nil, ackMode: .auto, credit: 0)
                        if i % 2 == 1 {
                            try broker.unsubscribe(churn, sid: "c\(i - 1)")
                            try broker.unsubscribe(churn, sid: "c\(i)")
                        }
                    }
                } catch {
                    failures.wrappingAdd(1, ordering: .relaxed)
                }
                return
            }
            for b in 0..<batches {
                let batch = (0..<perBatch).map { i in
                    request("orders", "w\(worker)-b\(b)-\(i)", color: i % 2 == 0 ? "red" : "blue")
                }
                let results = broker.publish(batch)
                let got = results.compactMap(\.success)
                if got.count != perBatch { failures.wrappingAdd(1, ordering: .relaxed) }
                ids.withLock { $0.append(contentsOf: got) }
            }
        }
        let total = publishers * batches * perBatch
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(ids.withLock { Set($0).count } == total)
        #expect(broker.stats.published == UInt64(total))
        #expect(all.deliveries.count == total)
        #expect(all.callCount == publishers * batches)  // one sink call per batch
        // Sink calls for one session are serialised in tag order even with racing publishers.
        #expect(all.tags == (1...UInt64(total)).map { $0 })
        #expect(reds.deliveries.count == total / 2)
        #expect(reds.deliveries.allSatisfy { $0.message.attributes["color"]?.stringValue == "red" })
        #expect(reds.tags == (1...UInt64(total / 2)).map { $0 })
        #expect(endpoint.bodies.count == total)
        #expect(endpoint.callCount == publishers * batches)
        #expect(broker.subscriptionCount(topic: "orders") == 3)
        // Per publisher, its own messages arrive in its publish order.
        for worker in 0..<publishers {
            let mine = all.bodies.filter { $0.hasPrefix("w\(worker)-") }
            let expected = (0..<batches).flatMap { b in (0..<perBatch).map { "w\(worker)-b\(b)-\($0)" } }
            #expect(mine == expected)
        }
    }

    @Test func concurrentAcksAndPublishesKeepInFlightBounded() throws {
        let (broker, _) = try makeBroker()
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: "x", topic: "orders", policy: nil, ackMode: .explicit, credit: 16)
        let acked = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 3) { worker in
            if worker == 2 {
                // The consumer: ack everything seen, until all 2 000 are acked.
                var next = 0
                while acked.load(ordering: .relaxed) < 2_000 {
                    let tags = sink.calls.withLock { calls in calls.flatMap { $0 }.dropFirst(next).map(\.deliveryTag) }
                    next += tags.count
                    if let count = try? broker.ack(handle, sid: "x", tags: tags) {
                        acked.wrappingAdd(count, ordering: .relaxed)
                    }
                }
                return
            }
            for i in 0..<1_000 { _ = broker.publish([request("orders", "p\(worker)-\(i)")]) }
        }
        #expect(acked.load(ordering: .relaxed) == 2_000)
        #expect(Set(sink.bodies).count == 2_000)
        let info = try #require(broker.streamSubscriptionInfo(session: SessionID("s"), sid: "x"))
        #expect(info.inFlight == 0 && info.pending == 0 && info.credit == 16)
    }
}
