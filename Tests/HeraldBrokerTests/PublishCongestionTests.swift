import HeraldCore
import Synchronization
import Testing
@testable import HeraldBroker

@Suite struct PublishCongestionTests {
    /// A subscriber without credit: publishes queue; past a quarter of the pending bound the
    /// publisher is told, and once credit drains the queue under an eighth it is relieved.
    @Test func backlogPastAQuarterOfTheBoundIsReportedAndClearsAfterDraining() throws {
        let (broker, _) = try makeBroker { $0.maxPendingMessages = 80 }
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("slow"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 0)

        var congestion: PublishCongestion?
        _ = broker.publish((0..<20).map { request("orders", "m\($0)") }, congestion: &congestion)
        #expect(congestion == nil, "20 queued is exactly a quarter: not yet backlogged")

        _ = broker.publish([request("orders", "m20")], congestion: &congestion)
        let backlog = try #require(congestion)
        #expect(!backlog.isRelieved)

        try broker.addCredit(handle, sid: 1, 5)  // 16 queued: above an eighth (10)
        #expect(!backlog.isRelieved)
        try broker.addCredit(handle, sid: 1, 6)  // 10 queued: relieved
        #expect(backlog.isRelieved)
        #expect(sink.deliveries.count == 11)
    }

    @Test func aSubscriberWithCreditNeverCongests() throws {
        let (broker, _) = try makeBroker { $0.maxPendingMessages = 8 }
        let handle = try broker.attachSession(SessionID("fast"), sink: RecordingSink(), now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 1_000)
        var congestion: PublishCongestion?
        _ = broker.publish((0..<500).map { request("orders", "m\($0)") }, congestion: &congestion)
        #expect(congestion == nil)
    }

    @Test func detachingTheSessionRelievesItsPublishers() throws {
        let (broker, _) = try makeBroker { $0.maxPendingMessages = 8 }
        let handle = try broker.attachSession(SessionID("gone"), sink: RecordingSink(), now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 0)
        var congestion: PublishCongestion?
        _ = broker.publish((0..<5).map { request("orders", "m\($0)") }, congestion: &congestion)
        let backlog = try #require(congestion)
        #expect(!backlog.isRelieved)
        broker.detachSession(handle, now: 1)
        #expect(backlog.isRelieved)
    }

    /// Relief is signalled: the callback runs once, when the last backlogged receiver drains — not
    /// before, and not again.
    @Test func whenRelievedIsCalledOnceWhenEveryReceiverDrained() throws {
        let (broker, first, second, backlog) = try twoBackloggedSessions()
        let calls = Atomic<Int>(0)
        backlog.whenRelieved { calls.add(1, ordering: .relaxed) }
        #expect(calls.load(ordering: .relaxed) == 0)
        try broker.addCredit(first, sid: 1, 30)
        #expect(calls.load(ordering: .relaxed) == 0, "the second receiver is still backlogged")
        broker.detachSession(second, now: 1)
        #expect(calls.load(ordering: .relaxed) == 1)
        try broker.addCredit(first, sid: 1, 30)
        #expect(calls.load(ordering: .relaxed) == 1)
        // Already relieved: at once.
        backlog.whenRelieved { calls.add(1, ordering: .relaxed) }
        #expect(calls.load(ordering: .relaxed) == 2)
    }

    /// A receiver that drained first and was congested again (by another publisher) before the
    /// last one drained must still be waited for, and its second drain must fire the relief: a
    /// publisher otherwise sat out its whole pacing bound (seen in 10→10 runs).
    @Test func aReceiverCongestedAgainBeforeTheLastDrainStillRelievesThePublisher() throws {
        let (broker, first, second, backlog) = try twoBackloggedSessions()
        let calls = Atomic<Int>(0)
        backlog.whenRelieved { calls.add(1, ordering: .relaxed) }
        try broker.addCredit(first, sid: 1, 30)  // the first drains ...
        let drained = first.core.congested.load(ordering: .relaxed)
        #expect(!drained)
        // ... and another publisher's batch congests it again (the second still holds 30).
        var again: PublishCongestion?
        _ = broker.publish((0..<30).map { request("orders", "n\($0)") }, congestion: &again)
        let congestedAgain = first.core.congested.load(ordering: .relaxed)
        #expect(congestedAgain)
        try broker.addCredit(second, sid: 1, 60)  // the second drains: the first is backlogged
        #expect(calls.load(ordering: .relaxed) == 0, "the first receiver is backlogged again")
        try broker.addCredit(first, sid: 1, 30)  // the first drains again: now every one is low
        #expect(calls.load(ordering: .relaxed) == 1)
    }

    /// Two sessions without credit, each holding 30 queued messages (past a quarter of 80), and
    /// the congestion that publish reported.
    private func twoBackloggedSessions() throws -> (Broker, StreamSessionHandle, StreamSessionHandle, PublishCongestion) {
        let (broker, _) = try makeBroker { $0.maxPendingMessages = 80 }
        let first = try broker.attachSession(SessionID("a"), sink: RecordingSink(), now: 0)
        let second = try broker.attachSession(SessionID("b"), sink: RecordingSink(), now: 0)
        try broker.subscribe(first, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 0)
        try broker.subscribe(second, sid: 1, topic: "orders", policy: nil, ackMode: .auto, credit: 0)
        var congestion: PublishCongestion?
        _ = broker.publish((0..<30).map { request("orders", "m\($0)") }, congestion: &congestion)
        return (broker, first, second, try #require(congestion))
    }
}
