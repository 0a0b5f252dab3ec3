import FilterPolicy
import HeraldCore
import Testing
@testable import HeraldBroker

@Suite struct FlowControlTests {
    @Test func autoAckCreditIsAWindowRefilledOnlyByAddCreditAndResumesInOrder() throws {
        let (broker, _) = try makeBroker()
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 2)
        for i in 0..<5 { _ = broker.publish([request("orders", "m\(i)")]) }
        #expect(sink.bodies == ["m0", "m1"])
        #expect(sink.callCount == 2)
        var info = try #require(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1))
        #expect(info.credit == 0 && info.pending == 3 && info.inFlight == 0)

        try broker.addCredit(handle, sid: 1, 2)
        #expect(sink.callCount == 3)  // one call for everything the credit released
        #expect(sink.bodies == ["m0", "m1", "m2", "m3"])

        _ = broker.publish([request("orders", "m5")])  // queued behind m4, not ahead of it
        #expect(sink.bodies.count == 4)
        try broker.addCredit(handle, sid: 1, 10)
        #expect(sink.bodies == ["m0", "m1", "m2", "m3", "m4", "m5"])
        _ = broker.publish([request("orders", "m6")])
        #expect(sink.bodies.last == "m6")
        #expect(sink.tags == Array(1...7))
        info = try #require(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1))
        #expect(info.credit == 7 && info.pending == 0 && info.pendingBytes == 0)
    }

    @Test func aBatchLargerThanCreditPushesWhatFitsAndQueuesTheRest() throws {
        let (broker, _) = try makeBroker()
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 3)
        _ = broker.publish((0..<5).map { request("orders", "m\($0)") })
        #expect(sink.callCount == 1)
        #expect(sink.bodies == ["m0", "m1", "m2"])
        #expect(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1)?.pending == 2)
    }

    @Test func ackModeCreditIsMaxInFlightReturnedByAcks() throws {
        let (broker, _) = try makeBroker()
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 2)
        for i in 0..<4 { _ = broker.publish([request("orders", "m\(i)")]) }
        #expect(sink.bodies == ["m0", "m1"])
        var info = try #require(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1))
        #expect(info.inFlight == 2 && info.pending == 2 && info.credit == 0)

        #expect(try broker.ack(handle, sid: 1, tags: [1]) == 1)
        #expect(sink.bodies == ["m0", "m1", "m2"])
        #expect(try broker.ack(handle, sid: 1, tags: [2, 3]) == 2)
        #expect(sink.bodies == ["m0", "m1", "m2", "m3"])
        info = try #require(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1))
        #expect(info.inFlight == 1 && info.pending == 0 && info.credit == 1)

        // Unknown and repeated tags are ignored and counted.
        #expect(try broker.ack(handle, sid: 1, tags: [99, 1]) == 0)
        #expect(broker.stats.unknownAckTags == 2)
        #expect(try broker.ack(handle, sid: 1, tags: [4]) == 1)
        info = try #require(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1))
        #expect(info.inFlight == 0 && info.credit == 2)
    }

    @Test func creditIsClampedSoInFlightMemoryStaysBounded() throws {
        let (broker, _) = try makeBroker { $0.maxInFlight = 5; $0.maxCredit = 7 }
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 2, topic: "orders", policy: nil, ackMode: .explicit, credit: 1_000)
        try broker.subscribe(handle, sid: 3, topic: "orders", policy: nil, ackMode: .auto, credit: Int.max)
        #expect(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 2)?.credit == 5)
        #expect(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 3)?.credit == 7)
        _ = broker.publish((0..<3).map { request("orders", "m\($0)") })
        try broker.addCredit(handle, sid: 2, Int.max)
        let ack = try #require(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 2))
        #expect(ack.inFlight == 3 && ack.credit == 2)
        try broker.addCredit(handle, sid: 3, Int.max)
        #expect(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 3)?.credit == 7)
    }

    @Test func slowConsumerIsDisconnectedCountedAndReleasedWithoutStallingOthers() throws {
        let (broker, _) = try makeBroker { $0.maxPendingMessages = 3 }
        let slow = RecordingSink(), fast = RecordingSink()
        let slowHandle = try broker.attachSession(SessionID("slow"), sink: slow, now: 0)
        let fastHandle = try broker.attachSession(SessionID("fast"), sink: fast, now: 0)
        try broker.subscribe(slowHandle, sid: 4, topic: "orders", policy: nil, ackMode: .explicit, credit: 0)
        try broker.subscribe(slowHandle, sid: 5, topic: "orders", policy: policy("color", "none"), ackMode: .auto, credit: 0)
        try broker.subscribe(fastHandle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 1_000)
        #expect(broker.subscriptionCount(topic: "orders") == 3)

        for i in 0..<3 { #expect(broker.publish([request("orders", "m\(i)")])[0].success != nil) }
        #expect(slow.disconnects.isEmpty)
        #expect(broker.streamSubscriptionInfo(session: SessionID("slow"), sid: 4)?.pending == 3)

        let results = broker.publish([request("orders", "m3"), request("orders", "m4")])
        #expect(results.allSatisfy { $0.success != nil })
        #expect(slow.disconnects == [.slowConsumer])
        #expect(DisconnectReason.slowConsumer.code.rawValue == "SlowConsumer")
        #expect(broker.stats.slowConsumerDisconnects == 1)
        #expect(slow.callCount == 0)
        #expect(fast.bodies == ["m0", "m1", "m2", "m3", "m4"])
        // Every subscription of the session is gone, its memory with it.
        #expect(broker.subscriptionCount(topic: "orders") == 1)
        #expect(broker.streamSubscriptionInfo(session: SessionID("slow"), sid: 4) == nil)
        #expect(throws: BrokerError.sessionClosed) { try broker.addCredit(slowHandle, sid: 4, 1) }
        broker.detachSession(slowHandle, now: 1)  // the connection's own close is harmless

        _ = broker.publish([request("orders", "m5")])
        #expect(slow.disconnects.count == 1 && slow.callCount == 0)
        #expect(fast.bodies.last == "m5")

        // The session id can connect again from scratch.
        let again = RecordingSink()
        let handle = try broker.attachSession(SessionID("slow"), sink: again, now: 2)
        #expect(try broker.subscribe(handle, sid: 4, topic: "orders", policy: nil, ackMode: .explicit, credit: 5) == .created)
        #expect(again.callCount == 0)
    }

    @Test func pendingByteBoundAlsoTriggersTheSlowConsumerPolicy() throws {
        let (broker, _) = try makeBroker { $0.maxPendingBytes = 100 }
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 0)
        let body = String(repeating: "x", count: 40)
        _ = broker.publish([request("orders", body), request("orders", body)])
        #expect(sink.disconnects.isEmpty)
        #expect(broker.streamSubscriptionInfo(session: SessionID("s"), sid: 1)?.pendingBytes == 80)
        _ = broker.publish([request("orders", body)])
        #expect(sink.disconnects == [.slowConsumer])
    }
}
