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
        try broker.subscribe(allHandle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 1_000_000)
        try broker.subscribe(redHandle, sid: 1, topic: "orders", policy: policy("color", "red"), ackMode: .explicit, credit: 10_000)

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
                        try broker.subscribe(churn, sid: UInt64(i), topic: "orders", policy: nil, ackMode: .auto, credit: 0)
                        if i % 2 == 1 {
                            try broker.unsubscribe(churn, sid: UInt64(i - 1))
                            try broker.unsubscribe(churn, sid: UInt64(i))
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
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 16)
        let acked = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 3) { worker in
            if worker == 2 {
                // The consumer: ack everything seen, until all 2 000 are acked.
                var next = 0
                while acked.load(ordering: .relaxed) < 2_000 {
                    let tags = sink.calls.withLock { calls in calls.flatMap { $0 }.dropFirst(next).map(\.deliveryTag) }
                    next += tags.count
                    if let count = try? broker.ack(handle, sid: 1, tags: tags) {
                        acked.wrappingAdd(count, ordering: .relaxed)
                    }
                }
                return
            }
            for i in 0..<1_000 { _ = broker.publish([request("orders", "p\(worker)-\(i)")]) }
        }
        #expect(acked.load(ordering: .relaxed) == 2_000)
        #expect(Set(sink.bodies).count == 2_000)
        let info = try #require(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1))
        #expect(info.inFlight == 0 && info.pending == 0 && info.credit == 16)
    }

    /// At-least-once across reconnects: while publishers run, an ack-mode client keeps dropping and
    /// resuming its session. In the end every published message was delivered at least once.
    @Test func ackModeClientReconnectingDuringPublishesLosesNothing() throws {
        let (broker, _) = try makeBroker()
        let session = SessionID("flaky")
        let sinks = SinkList()
        @Sendable func connect(now: UInt64) throws -> (StreamSessionHandle, RecordingSink) {
            let sink = RecordingSink()
            sinks.all.withLock { $0.append(sink) }
            let handle = try broker.attachSession(session, sink: sink, now: now)
            try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 50)
            return (handle, sink)
        }
        // "Processed" = acked: a message only delivered to a connection that then dropped does not
        // count, it must come again.
        let processed = SinkList()
        @Sendable func ackEverything(_ handle: StreamSessionHandle, _ sink: RecordingSink, from seen: inout Int) {
            let fresh = sink.calls.withLock { calls in Array(calls.flatMap { $0 }.dropFirst(seen)) }
            seen += fresh.count
            if (try? broker.ack(handle, sid: 1, tags: fresh.map(\.deliveryTag))) == fresh.count {
                processed.bodies.withLock { $0.formUnion(fresh.map(\.bodyText)) }
            }
        }
        _ = try connect(now: 0)  // the subscription exists before the first publish

        let published = Mutex<[String]>([])
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            if worker == 3 {
                do {
                    for round in 1...40 {
                        let (handle, sink) = try connect(now: UInt64(round))
                        var seen = 0
                        for _ in 0..<3 { ackEverything(handle, sink, from: &seen) }
                        broker.detachSession(handle, now: UInt64(round))
                    }
                } catch {
                    failures.wrappingAdd(1, ordering: .relaxed)
                }
                return
            }
            for i in 0..<500 {
                let body = "p\(worker)-\(i)"
                if broker.publish([request("orders", body)])[0].success != nil {
                    published.withLock { $0.append(body) }
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)

        let (handle, sink) = try connect(now: 1_000)
        var seen = 0
        for _ in 0..<10_000 {
            ackEverything(handle, sink, from: &seen)
            let info = try #require(broker.streamSubscriptionInfo(session: session, sid: 1))
            if info.inFlight == 0 && info.pending == 0 { break }
        }
        let all = published.withLock { $0 }
        #expect(all.count == 1_500)
        let missing = Set(all).subtracting(processed.bodies.withLock { $0 })
        #expect(missing.isEmpty, "never acked: \(missing.count)")
        #expect(sinks.all.withLock { $0.count } == 42)
        #expect(broker.stats.slowConsumerDisconnects == 0 && broker.stats.detachedOverflowDrops == 0)
    }
}

final class SinkList: Sendable {
    let all = Mutex<[RecordingSink]>([])
    let bodies = Mutex<Set<String>>([])
}
