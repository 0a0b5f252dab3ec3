import HeraldCore
import Testing
@testable import HeraldBroker

/// A session belongs to the identity that created it: only that identity resumes or takes it over;
/// anonymous clients get broker-issued ids and may resume only those. A refusal changes nothing.
@Suite struct SessionOwnershipTests {
    static let window: UInt64 = 1_000
    static let alice = SessionOwner.user("alice")
    static let carol = SessionOwner.user("carol")

    func broker() throws -> Broker {
        try makeBroker { $0.resumeWindowNanoseconds = Self.window }.0
    }

    /// Alice's session `s1` with an ack-mode subscription holding three unacked messages.
    func aliceWithUnacked(_ broker: Broker, sink: RecordingSink) throws -> StreamSessionHandle {
        let handle = try broker.attachSession(SessionID("s1"), owner: Self.alice, sink: sink, now: 0)
        try broker.subscribe(handle, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 10)
        _ = broker.publish((0..<3).map { request("orders", "m\($0)") })
        #expect(sink.bodies == ["m0", "m1", "m2"])
        return handle
    }

    @Test func theSameUserResumesItsSession() throws {
        let broker = try broker()
        let first = RecordingSink()
        let h1 = try aliceWithUnacked(broker, sink: first)
        #expect(!h1.resumed)
        broker.detachSession(h1, now: 10)
        let second = RecordingSink()
        let h2 = try broker.attachSession(SessionID("s1"), owner: Self.alice, sink: second, now: 20)
        #expect(h2.resumed && h2.id == SessionID("s1"))
        #expect(try broker.subscribe(h2, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 10)
            == .resumed(redelivered: 3, pending: 0))
        #expect(second.bodies == ["m0", "m1", "m2"] && second.deliveries.allSatisfy(\.redelivered))
    }

    @Test func theSameUserTakesOverItsOwnLiveSession() throws {
        let broker = try broker()
        let first = RecordingSink()
        _ = try aliceWithUnacked(broker, sink: first)
        let second = RecordingSink()
        let h2 = try broker.attachSession(SessionID("s1"), owner: Self.alice, sink: second, now: 5)
        #expect(h2.resumed)
        #expect(first.disconnects == [.sessionTakenOver])
        #expect(try broker.subscribe(h2, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 10)
            == .resumed(redelivered: 3, pending: 0))
    }

    /// What `aliceWithUnacked` left must still be exactly there, attached to alice's connection.
    func expectAliceUntouched(
        _ broker: Broker, _ handle: StreamSessionHandle, _ sink: RecordingSink,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(sink.disconnects.isEmpty, "alice was not knocked off", sourceLocation: sourceLocation)
        let info = try #require(broker.streamSubscriptionInfo(session: SessionID("s1"), sid: 1), sourceLocation: sourceLocation)
        #expect(info.inFlight == 3 && info.detachedUntil == nil, "alice's unacked messages are still hers", sourceLocation: sourceLocation)
        #expect(broker.gauges.sessions == 1 && broker.gauges.attachedSessions == 1, sourceLocation: sourceLocation)
        // Alice's handle still works: new messages reach her, and her acks count.
        _ = broker.publish([request("orders", "after")])
        #expect(sink.bodies.last == "after" && sink.deliveries.last?.redelivered == false, sourceLocation: sourceLocation)
        #expect(try broker.ack(handle, sid: 1, tags: [1, 2, 3, 4]) == 4, sourceLocation: sourceLocation)
    }

    @Test func anotherUserCannotResumeOrTakeOverAndNothingIsTouched() throws {
        let broker = try broker()
        let aliceSink = RecordingSink()
        let handle = try aliceWithUnacked(broker, sink: aliceSink)
        let carolSink = RecordingSink()
        #expect(throws: BrokerError.sessionOwnedByAnotherIdentity(session: "s1")) {
            try broker.attachSession(SessionID("s1"), owner: Self.carol, sink: carolSink, now: 5)
        }
        #expect(carolSink.callCount == 0 && carolSink.disconnects.isEmpty)
        try expectAliceUntouched(broker, handle, aliceSink)
    }

    @Test func anotherUserCannotResumeADetachedSessionAndItsWindowIsNotConsumed() throws {
        let broker = try broker()
        let aliceSink = RecordingSink()
        let h1 = try aliceWithUnacked(broker, sink: aliceSink)
        broker.detachSession(h1, now: 10)
        // Even past the window: the refusal comes before anything (expiry included) is done.
        #expect(throws: BrokerError.sessionOwnedByAnotherIdentity(session: "s1")) {
            try broker.attachSession(SessionID("s1"), owner: Self.carol, sink: RecordingSink(), now: 10 + Self.window + 1)
        }
        #expect(broker.stats.detachedExpired == 0)
        let info = try #require(broker.streamSubscriptionInfo(session: SessionID("s1"), sid: 1))
        #expect(info.pending == 3 && info.detachedUntil == 10 + Self.window, "still queued for alice's resume")
        let sink = RecordingSink()
        let h2 = try broker.attachSession(SessionID("s1"), owner: Self.alice, sink: sink, now: 20)
        #expect(h2.resumed)
        #expect(try broker.subscribe(h2, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 10)
            == .resumed(redelivered: 3, pending: 0))
        #expect(sink.bodies == ["m0", "m1", "m2"])
    }

    @Test func theErrorIsAnAuthorizationRefusalThatSaysWhatToDo() {
        let owned = BrokerError.sessionOwnedByAnotherIdentity(session: "s1")
        #expect(owned.code == .notAuthorized)
        #expect(owned.message.contains("s1") && owned.message.contains("another identity"))
        #expect(owned.message.contains("connect without \"session\""))
        #expect(!owned.message.contains("alice"), "the owner is not revealed")
        let anonymous = BrokerError.sessionNotIssued(session: "demo-1")
        #expect(anonymous.code == .notAuthorized)
        #expect(anonymous.message.contains("anonymous") && anonymous.message.contains("connect without \"session\""))
    }

    @Test func anonymousCannotTakeANamedUsersSession() throws {
        let broker = try broker()
        let aliceSink = RecordingSink()
        let handle = try aliceWithUnacked(broker, sink: aliceSink)
        #expect(throws: BrokerError.sessionNotIssued(session: "s1")) {
            try broker.attachSession(SessionID("s1"), owner: .anonymous, sink: RecordingSink(), now: 5)
        }
        try expectAliceUntouched(broker, handle, aliceSink)
    }

    @Test func aNamedUserCannotTakeAnAnonymousSession() throws {
        let broker = try broker()
        let anonymousSink = RecordingSink()
        let h1 = try broker.attachSession(nil, owner: .anonymous, sink: anonymousSink, now: 0)
        #expect(!h1.resumed)
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 10)
        _ = broker.publish([request("orders", "m0")])
        #expect(throws: BrokerError.sessionOwnedByAnotherIdentity(session: h1.id.text)) {
            try broker.attachSession(h1.id, owner: Self.alice, sink: RecordingSink(), now: 5)
        }
        #expect(anonymousSink.disconnects.isEmpty)
        #expect(broker.streamSubscriptionInfo(session: h1.id, sid: 1)?.inFlight == 1)
        #expect(try broker.ack(h1, sid: 1, tags: [1]) == 1)
    }

    @Test func anonymousResumesTheIdItWasIssued() throws {
        let broker = try broker()
        let h1 = try broker.attachSession(nil, owner: .anonymous, sink: RecordingSink(), now: 0)
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 10)
        _ = broker.publish([request("orders", "m0")])
        broker.detachSession(h1, now: 1)
        let sink = RecordingSink()
        let h2 = try broker.attachSession(h1.id, owner: .anonymous, sink: sink, now: 2)
        #expect(h2.resumed && h2.id == h1.id)
        #expect(try broker.subscribe(h2, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 10)
            == .resumed(redelivered: 1, pending: 0))
        #expect(sink.bodies == ["m0"] && sink.deliveries.first?.redelivered == true)
    }

    @Test func anonymousCannotNameASessionIdTheBrokerDidNotIssue() throws {
        let broker = try broker()
        for text in ["demo-1", SessionID.random().text] {
            #expect(throws: BrokerError.sessionNotIssued(session: text)) {
                try broker.attachSession(SessionID(text), owner: .anonymous, sink: RecordingSink(), now: 0)
            }
        }
        #expect(broker.gauges.sessions == 0, "a refused attach creates nothing")
        // An issued id whose session is gone (nothing to keep: dropped on detach) is refused too.
        let h1 = try broker.attachSession(nil, owner: .anonymous, sink: RecordingSink(), now: 0)
        broker.detachSession(h1, now: 1)
        #expect(broker.gauges.sessions == 0)
        #expect(throws: BrokerError.sessionNotIssued(session: h1.id.text)) {
            try broker.attachSession(h1.id, owner: .anonymous, sink: RecordingSink(), now: 2)
        }
    }

    @Test func issuedSessionIDsAre128RandomBitsInHex() throws {
        let broker = try broker()
        var seen = Set<String>()
        var handles: [StreamSessionHandle] = []
        for _ in 0..<200 {
            let handle = try broker.attachSession(nil, owner: Self.alice, sink: RecordingSink(), now: 0)
            #expect(!handle.resumed)
            handles.append(handle)
            seen.insert(handle.id.text)
        }
        #expect(seen.count == 200)
        let hexDigits = Set("0123456789abcdef")
        for text in seen { #expect(text.count == 32 && text.allSatisfy(hexDigits.contains), "\(text)") }
        // Every one of the 32 positions varies (no fixed version nibble or prefix).
        for position in 0..<32 {
            let digits = Set(seen.map { Array($0)[position] })
            #expect(digits.count > 1, "position \(position)")
        }
        // Two words of the generator, zero-padded, most significant first.
        var counter = CountingGenerator()
        #expect(SessionID.random(using: &counter).text == "00000000000000010000000000000002")
        for handle in handles { broker.detachSession(handle, now: 1) }
    }

    @Test func resumedIsTrueOnlyWhenAnExistingSessionWasResumed() throws {
        let broker = try broker()
        let id = SessionID("fresh")
        let h1 = try broker.attachSession(id, owner: Self.alice, sink: RecordingSink(), now: 0)
        #expect(!h1.resumed, "a new session under a chosen id")
        try broker.subscribe(h1, sid: 1, topic: "orders", policy: nil, ackMode: .explicit, credit: 1)
        let h2 = try broker.attachSession(id, owner: Self.alice, sink: RecordingSink(), now: 1)
        #expect(h2.resumed, "taken over from a live connection")
        broker.detachSession(h2, now: 2)
        let h3 = try broker.attachSession(id, owner: Self.alice, sink: RecordingSink(), now: 3)
        #expect(h3.resumed, "a detached subscription was waiting")
        broker.detachSession(h3, now: 4)
        let h4 = try broker.attachSession(id, owner: Self.alice, sink: RecordingSink(), now: 4 + Self.window)
        #expect(!h4.resumed, "everything had expired")
        broker.detachSession(h4, now: 5 + Self.window)
        #expect(broker.gauges.sessions == 0)
        let h5 = try broker.attachSession(id, owner: Self.alice, sink: RecordingSink(), now: 6 + Self.window)
        #expect(!h5.resumed, "the session was gone")
    }

    @Test func sessionTakenOverIsInTheCatalog() {
        #expect(HeraldErrorCode.all.contains(DisconnectReason.sessionTakenOver.code))
        #expect(HeraldErrorCode.all.contains(DisconnectReason.slowConsumer.code))
    }
}

/// Yields 1, 2, 3, …
struct CountingGenerator: RandomNumberGenerator {
    var value: UInt64 = 0
    mutating func next() -> UInt64 {
        value += 1
        return value
    }
}
