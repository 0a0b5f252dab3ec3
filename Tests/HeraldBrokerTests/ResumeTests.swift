import FilterPolicy
import HeraldCore
import Testing
@testable import HeraldBroker

@Suite struct ResumeTests {
    static let window: UInt64 = 1_000

    func broker(_ configure: (inout BrokerLimits) -> Void = { _ in }) throws -> Broker {
        try makeBroker {
            $0.resumeWindowNanoseconds = Self.window
            configure(&$0)
        }.0
    }

    @Test func reattachRedeliversUnackedInOrderThenPendingThenNew() throws {
        let broker = try broker()
        let first = RecordingSink()
        let session = SessionID("client-1")
        let red = policy("color", "red")
        let h1 = try broker.attachSession(session, sink: first, now: 0)
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: red, ackMode: .explicit, credit: 3)
        for i in 0..<5 { _ = broker.publish([request("orders", "m\(i)", color: "red")]) }
        #expect(first.bodies == ["m0", "m1", "m2"])
        #expect(try broker.ack(h1, sid: 1, tags: [2]) == 1)  // m1 done; m3 goes out as tag 4
        #expect(first.bodies == ["m0", "m1", "m2", "m3"])

        broker.detachSession(h1, now: 100)
        #expect(throws: BrokerError.sessionClosed) { try broker.ack(h1, sid: 1, tags: [1]) }
        _ = broker.publish([request("orders", "m5", color: "red"), request("orders", "skip", color: "blue")])
        let detached = try #require(broker.streamSubscriptionInfo(session: session, sid: 1))
        #expect(detached.detachedUntil == 100 + Self.window)
        #expect(detached.inFlight == 0 && detached.pending == 5 && detached.credit == 0)
        #expect(first.bodies.count == 4)
        let gauges = broker.gauges
        #expect(gauges.sessions == 1 && gauges.attachedSessions == 0)
        #expect(gauges.streamSubscriptions == 1 && gauges.detachedSubscriptions == 1)
        #expect(gauges.pendingMessages == 5 && gauges.inFlightMessages == 0)

        let second = RecordingSink()
        let h2 = try broker.attachSession(session, sink: second, now: 500)
        #expect(second.callCount == 0)  // nothing moves before the client subscribes again
        let outcome = try broker.subscribe(h2, sid: 1, topic: "orders", policy: red, ackMode: .explicit, credit: 10)
        #expect(outcome == .resumed(redelivered: 3, pending: 2))
        #expect(second.callCount == 1)
        #expect(second.bodies == ["m0", "m2", "m3", "m4", "m5"])
        #expect(second.deliveries.map(\.redelivered) == [true, true, true, false, false])
        #expect(second.tags == [5, 6, 7, 8, 9])  // tags never reused across the resume

        _ = broker.publish([request("orders", "m6", color: "red")])
        let last = try #require(second.deliveries.last)
        #expect(last.bodyText == "m6" && !last.redelivered && last.deliveryTag == 10)
        #expect(try broker.ack(h2, sid: 1, tags: [1, 3, 4]) == 0)  // pre-resume tags are void
        #expect(try broker.ack(h2, sid: 1, tags: [5, 6, 7, 8, 9, 10]) == 6)
        #expect(broker.streamSubscriptionInfo(session: session, sid: 1)?.inFlight == 0)
        #expect(broker.gauges.attachedSessions == 1 && broker.gauges.detachedSubscriptions == 0)
        #expect(first.callCount == 4 && first.disconnects.isEmpty)
    }

    @Test func resumeCreditLimitsTheRedeliveryToo() throws {
        let broker = try broker()
        let session = SessionID("c")
        let h1 = try broker.attachSession(session, sink: RecordingSink(), now: 0)
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 5)
        _ = broker.publish((0..<4).map { request("orders", "m\($0)") })
        broker.detachSession(h1, now: 0)
        let sink = RecordingSink()
        let h2 = try broker.attachSession(session, sink: sink, now: 1)
        try broker.subscribe(h2, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 2)
        #expect(sink.bodies == ["m0", "m1"])
        #expect(try broker.ack(h2, sid: 1, tags: [5, 6]) == 2)
        #expect(sink.bodies == ["m0", "m1", "m2", "m3"])
        #expect(sink.deliveries.allSatisfy { $0.redelivered })
    }

    @Test func detachedSubscriptionsExpireAfterTheResumeWindow() throws {
        let broker = try broker()
        let session = SessionID("c")
        let h1 = try broker.attachSession(session, sink: RecordingSink(), now: 0)
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 1)
        _ = broker.publish([request("orders", "m0"), request("orders", "m1")])
        broker.detachSession(h1, now: 100)
        #expect(broker.expireDetached(now: 100 + Self.window - 1) == 0)
        #expect(broker.streamSubscriptionInfo(session: session, sid: 1) != nil)
        #expect(broker.subscriptionCount(topic: "orders") == 1)
        #expect(broker.expireDetached(now: 100 + Self.window) == 1)
        #expect(broker.streamSubscriptionInfo(session: session, sid: 1) == nil)
        #expect(broker.subscriptionCount(topic: "orders") == 0)
        #expect(broker.stats.detachedExpired == 1)

        let sink = RecordingSink()
        let h2 = try broker.attachSession(session, sink: sink, now: 5_000)
        #expect(try broker.subscribe(h2, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 5) == .created)
        #expect(sink.callCount == 0)
    }

    @Test func attachingAfterTheWindowExpiresWithoutAnExpiryPass() throws {
        let broker = try broker()
        let session = SessionID("c")
        let h1 = try broker.attachSession(session, sink: RecordingSink(), now: 0)
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 0)
        _ = broker.publish([request("orders", "m0")])
        broker.detachSession(h1, now: 0)
        let sink = RecordingSink()
        let h2 = try broker.attachSession(session, sink: sink, now: Self.window)
        #expect(broker.stats.detachedExpired == 1)
        #expect(try broker.subscribe(h2, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 5) == .created)
        #expect(sink.callCount == 0)
    }

    @Test func autoAckSubscriptionsAreDroppedOnDisconnect() throws {
        let broker = try broker()
        let session = SessionID("c")
        let h1 = try broker.attachSession(session, sink: RecordingSink(), now: 0)
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 0)
        _ = broker.publish([request("orders", "m0")])
        broker.detachSession(h1, now: 0)
        #expect(broker.streamSubscriptionInfo(session: session, sid: 1) == nil)
        #expect(broker.subscriptionCount(topic: "orders") == 0)
        let h2 = try broker.attachSession(session, sink: RecordingSink(), now: 1)
        #expect(try broker.subscribe(h2, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 5) == .created)
    }

    @Test func resubscribingWithAnotherPolicyReplacesTheDetachedSubscription() throws {
        let broker = try broker()
        let session = SessionID("c")
        let h1 = try broker.attachSession(session, sink: RecordingSink(), now: 0)
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 0)
        _ = broker.publish([request("orders", "m0", color: "red")])
        broker.detachSession(h1, now: 0)
        let sink = RecordingSink()
        let h2 = try broker.attachSession(session, sink: sink, now: 1)
        let outcome = try broker.subscribe(h2, sid: 1, topic: "orders", policy: policy("color", "red"), ackMode: .explicit, credit: 5)
        #expect(outcome == .created)
        #expect(sink.callCount == 0)  // the old subscription's message went with it
        #expect(broker.subscriptionCount(topic: "orders") == 1)
        _ = broker.publish([request("orders", "m1", color: "red")])
        #expect(sink.bodies == ["m1"] && sink.tags == [1])
    }

    @Test func aNewConnectionTakesOverTheSessionAndResumesIt() throws {
        let broker = try broker()
        let session = SessionID("c")
        let old = RecordingSink()
        let h1 = try broker.attachSession(session, sink: old, now: 0)
        try broker.subscribe(h1, sid: 3, topic: "orders", policy: nil, ackMode: .explicit, credit: 5)
        try broker.subscribe(h1, sid: 4, topic: "orders", policy: nil, ackMode: .auto, credit: 5)
        _ = broker.publish([request("orders", "m0")])

        let new = RecordingSink()
        let h2 = try broker.attachSession(session, sink: new, now: 10)
        #expect(old.disconnects == [.sessionTakenOver])
        #expect(throws: BrokerError.sessionClosed) {
            try broker.subscribe(h1, sid: 2, topic: "orders", policy: nil, ackMode: .auto, credit: 1)
        }
        #expect(broker.streamSubscriptionInfo(session: session, sid: 4) == nil)
        #expect(try broker.subscribe(h2, sid: 3, topic: "orders", policy: nil, ackMode: .explicit, credit: 5)
            == .resumed(redelivered: 1, pending: 0))
        #expect(new.bodies == ["m0"] && new.deliveries.first?.redelivered == true)
        broker.detachSession(h1, now: 11)  // the old connection's late close does not touch h2
        _ = broker.publish([request("orders", "m1")])
        #expect(new.bodies == ["m0", "m1"])
    }

    @Test func aDetachedSubscriptionThatOverflowsIsDroppedNotCountedAsSlowConsumer() throws {
        let broker = try broker { $0.maxPendingMessages = 2 }
        let session = SessionID("c")
        let h1 = try broker.attachSession(session, sink: RecordingSink(), now: 0)
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 1)
        _ = broker.publish([request("orders", "m0")])  // in flight: becomes a redelivery, not counted
        broker.detachSession(h1, now: 0)
        _ = broker.publish([request("orders", "m1"), request("orders", "m2")])
        #expect(broker.streamSubscriptionInfo(session: session, sid: 1)?.pending == 3)
        // Two past the bound in one batch: the subscription is dropped once.
        _ = broker.publish([request("orders", "m3"), request("orders", "m4")])
        #expect(broker.streamSubscriptionInfo(session: session, sid: 1) == nil)
        #expect(broker.stats.detachedOverflowDrops == 1)
        #expect(broker.stats.slowConsumerDisconnects == 0)
        #expect(broker.subscriptionCount(topic: "orders") == 0)
    }

    @Test func creditAndAcksOnADetachedSidAreNotFoundUntilResubscribed() throws {
        let broker = try broker()
        let session = SessionID("c")
        let h1 = try broker.attachSession(session, sink: RecordingSink(), now: 0)
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 1)
        broker.detachSession(h1, now: 0)
        let h2 = try broker.attachSession(session, sink: RecordingSink(), now: 1)
        #expect(throws: BrokerError.subscriptionNotFound(sid: 1)) { try broker.addCredit(h2, sid: 1, 1) }
        #expect(throws: BrokerError.subscriptionNotFound(sid: 1)) { try broker.ack(h2, sid: 1, tags: [1]) }
        try broker.unsubscribe(h2, sid: 1)  // but it can be dropped explicitly
        #expect(broker.subscriptionCount(topic: "orders") == 0)
    }
}
