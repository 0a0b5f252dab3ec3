// Publisher pacing by the body BYTES waiting in a subscriber's hops (`ServerSession.isBackedUp`,
// `maxBytesInHops`). Large messages handed to a subscriber whose event loop cannot run its hops
// pace the publisher after about 2 MiB: long before the count bound (16,384 deliveries) could,
// and with nothing in the subscriber's output buffer (nothing is written while its loop is
// blocked), so the byte bound is the only thing that can pace here.
import Dispatch
import Foundation
import HeraldBroker
import HeraldClient
import HeraldCore
import HeraldNet
import HeraldTestSupport
import HeraldWire
import Synchronization
import Testing
@testable import HeraldServer

extension Integration {
    @Suite struct HopBound {
        /// The SNS maximum message size (`MessageLimits.maxMessageBytes`), all of it body.
        static let bodySize = MessageLimits().maxMessageBytes
        /// Messages whose bodies take the hops past the byte bound: the last of them paces.
        static let confirmedBeforePacing = ServerSession.maxBytesInHops / bodySize + 1
        /// Well past the bound (5 MiB), yet far below the count bound and the output hard limit.
        static let total = 20
        /// Dispatch's timers and `ContinuousClock` may disagree a little; without pacing the next
        /// PUBOK follows within milliseconds, so this allowance hides no failure.
        static let clockAllowance: Duration = .milliseconds(200)

        /// The subscriber's event loop is blocked, so none of its hops runs. The publisher sends
        /// one message at a time (each after the previous PUBOK: each broker call carries exactly
        /// one), so the hops hold k bodies after the k-th PUBOK. After the one that takes them
        /// past `maxBytesInHops` the publisher is paced: its next PUB is not read until the
        /// subscriber drains (it cannot: its loop is blocked) or `maxPacingWait` passes. So no
        /// further PUBOK can arrive before the earlier of the release and `maxPacingWait` after
        /// that PUB was sent — which holds however slow the machine is. Once released, every
        /// message is confirmed and delivered in publish order.
        @Test func bodiesWaitingInHopsPastTheByteBoundPaceThePublisher() throws {
            #expect(Self.confirmedBeforePacing < Self.total)
            #expect(Self.confirmedBeforePacing < ServerSession.maxDeliveriesInHops, "the count bound stays out of reach")
            let server = try TwoLoopServer()
            defer { server.stop() }
            let topic = "hop-bytes"

            // First connection: the subscriber, on loop 0.
            let subscriber = try server.subscriber(topic: topic)
            defer { subscriber.close() }
            // Second connection: the publisher, on loop 1.
            let publisher = try server.client()
            defer { publisher.close() }

            let gate = LoopGate()
            defer { gate.open() }  // never leave the loop blocked, whatever fails below
            try #require(gate.block(server.subscriberLoop), "the subscriber's loop runs the blocking item")

            let log = PublishLog()
            let publishing = DispatchGroup()
            let body = [UInt8](repeating: UInt8(ascii: "h"), count: Self.bodySize)
            DispatchQueue.global().async(group: publishing) {
                log.publishOneAtATime(publisher, topic: topic, body: body, count: Self.total)
            }

            // Up to the bound nothing paces: these arrive while the loop is blocked.
            let reachedBound = waitUntil(.seconds(60)) { log.confirmedCount >= Self.confirmedBeforePacing }
            try #require(reachedBound, "only \(log.confirmedCount) PUBOKs before the byte bound (is the publisher on the blocked loop?); \(log.failureText)")
            // Give an unpaced publisher time to show itself; a paced one sends nothing more.
            waitUntil(.milliseconds(1500)) { log.confirmedCount > Self.confirmedBeforePacing }
            let releasedAt = ContinuousClock.now
            gate.open()

            var received: [MessageID] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while received.count < Self.total, ContinuousClock.now < deadline,
                  let frame = try subscriber.next(timeout: deadline - ContinuousClock.now) {
                if case .message(let message) = frame { received.append(message.messageID) }
                if case .error(let error) = frame { Issue.record("the subscriber was cut off: \(error)"); break }
            }
            #expect(publishing.wait(timeout: .now() + 60) == .success, "the publisher finished")

            let entries = log.entries
            #expect(entries.count == Self.total && entries.allSatisfy(\.succeeded), "every publish confirmed; \(log.failureText)")
            let pacingSentAt = try #require(entries.dropFirst(Self.confirmedBeforePacing - 1).first).sentAt
            let pacedUntil = min(releasedAt, pacingSentAt + ServerSession.maxPacingWait - Self.clockAllowance)
            let early = entries.dropFirst(Self.confirmedBeforePacing).count { entry in
                entry.confirmedAt.map { $0 < pacedUntil } ?? false
            }
            #expect(early == 0, """
                \(early) PUBOKs past the \(Self.confirmedBeforePacing)th arrived while the subscriber's loop \
                was blocked and the pacing wait lasted: \(Self.confirmedBeforePacing) bodies of \(Self.bodySize) bytes \
                in hops did not pace the publisher
                """)
            #expect(received.count == Self.total)
            #expect(received == entries.compactMap(\.messageID), "every confirmed message, in publish order")
            #expect(server.server.counters.snapshot.outputLimitDisconnects == 0)
            #expect(server.server.broker.stats.slowConsumerDisconnects == 0)
        }
    }
}

extension Integration {
    /// A message that reached one subscriber is freed on the loop that published it
    /// (`ServerSession.deliver(_:soleHolder:)` hands the hop's box back), not on the subscriber's
    /// loop: glibc's `free` of another thread's allocation waits on that thread's arena lock.
    @Suite struct SoleTargetHop {
        @Test func aMessageWithOneTargetIsFreedOnThePublishersLoop() throws {
            let server = try TwoLoopServer()
            defer { server.stop() }
            let topic = "hop-origin"
            let subscriber = try server.subscriber(topic: topic)  // the first connection: loop 0
            defer { subscriber.close() }

            // Published on loop 1, as a publisher's session does; the message's only other
            // holder is its transport cache, the witness, which nothing else keeps.
            let death = DeathRecord()
            let origin = server.group.loops[1]
            let published = DispatchSemaphore(value: 0)
            let broker = server.server.broker
            origin.execute {
                var request = PublishRequest(topic: topic, body: Array("witnessed".utf8))
                request.transportCache = DeathWitness(death)
                var batch = [request]
                var congestion: PublishCongestion?
                var receipts: PublishReceipts?
                let results = broker.publish(taking: &batch, count: 1, congestion: &congestion, receipts: &receipts)
                if results.count != 1 || (try? results[0].get()) == nil { Issue.record("the publish was refused: \(results)") }
                published.signal()
            }
            #expect(published.wait(timeout: .now() + 30) == .success)

            let delivered = try #require(try subscriber.next(where: { if case .message = $0 { return true } else { return false } }))
            guard case .message(let message) = delivered else { return }
            #expect(message.body == Array("witnessed".utf8))
            try #require(waitUntil(.seconds(30)) { death.loop != nil }, "the delivered message was never freed")
            #expect(death.loop == .some(ObjectIdentifier(origin)), "freed on the publisher's loop")
            #expect(death.loop != .some(ObjectIdentifier(server.subscriberLoop)), "not on the subscriber's")
        }
    }
}

/// Where a `DeathWitness` died: the event loop's identity (nil inside when off every loop).
private final class DeathRecord: Sendable {
    private let state = Mutex<ObjectIdentifier??>(nil)
    var loop: ObjectIdentifier?? { state.withLock { $0 } }
    func record(_ loop: EventLoop?) { state.withLock { $0 = .some(loop.map(ObjectIdentifier.init)) } }
}

/// A message's transport cache that records the loop its message was freed on.
private final class DeathWitness: MessageTransportCache {
    let record: DeathRecord
    init(_ record: DeathRecord) { self.record = record }
    deinit { record.record(EventLoop.current) }
}

/// A server with an event-loop group of its own, two loops whatever the core count. Nothing but
/// this server's stream listener takes loops from it (no admin or HTTP listener is configured),
/// and the group hands them out round-robin from loop 0: the first connection accepted runs on
/// loop 0, the second on loop 1.
private final class TwoLoopServer: Sendable {
    let group = EventLoopGroup(loopCount: 2, label: "herald.test.hop-bound")
    let server: Server
    let port: Int

    init() throws {
        let config = TestServer.baseConfig()
        #expect(config.admin == nil && config.http == nil, "no other listener takes loops from the group")
        server = Server(config: config, group: group)
        try server.start()
        port = try #require(server.listenAddresses.first).port
    }

    /// The loop of the first connection accepted.
    var subscriberLoop: EventLoop { group.loops[0] }

    /// A raw client subscribed to `topic` (sid 1, auto acks, unbounded credit) once its SUBOK came.
    func subscriber(topic: String) throws -> RawClient {
        let client = try RawClient(port: port)
        do {
            try client.handshake()
            try client.send(.subscribe(SubscribeFrame(sid: 1, topic: topic, ackMode: .auto, credit: UInt32.max)))
            _ = try #require(try client.next(where: { if case .subscribed = $0 { return true } else { return false } }))
            return client
        } catch {
            client.close()
            throw error
        }
    }

    func client() throws -> HeraldClient {
        try HeraldClient.connect(ClientOptions(host: "127.0.0.1", port: port, caFile: TestPaths.ca, connectTimeout: .seconds(10)))
    }

    func stop() { server.stop() }
}

/// Blocks one event loop's queue until `open()`: connections on it run nothing meanwhile.
private final class LoopGate: Sendable {
    private let entered = DispatchSemaphore(value: 0)
    private let release = DispatchSemaphore(value: 0)
    private let opened = Atomic<Bool>(false)

    /// Queues the blocking item on `loop`; true once it runs (the loop is blocked from then on).
    func block(_ loop: EventLoop) -> Bool {
        loop.execute { [entered, release] in
            entered.signal()
            release.wait()
        }
        return entered.wait(timeout: .now() + 30) == .success
    }

    /// Lets the loop go on; later calls do nothing.
    func open() {
        guard !opened.exchange(true, ordering: .relaxed) else { return }
        release.signal()
    }
}

/// One publisher's messages: when each PUB was handed to the client and when its PUBOK came.
private final class PublishLog: Sendable {
    struct Entry: Sendable {
        let sentAt: ContinuousClock.Instant
        var confirmedAt: ContinuousClock.Instant?
        var result: Result<MessageID, ClientError>?

        var succeeded: Bool { messageID != nil }
        var messageID: MessageID? {
            if case .success(let id)? = result { return id }
            return nil
        }
    }

    private let state = Mutex<[Entry]>([])

    var entries: [Entry] { state.withLock { $0 } }
    var confirmedCount: Int { state.withLock { entries in entries.count(where: \.succeeded) } }
    var failureText: String {
        let failures = state.withLock { $0.compactMap { entry -> String? in
            if case .failure(let error)? = entry.result { return "\(error)" }
            return nil
        } }
        return failures.isEmpty ? "no publish failed" : "failures: \(failures)"
    }

    /// Publishes `count` messages one at a time: each after the previous one's confirmation, so
    /// each reaches the broker alone. Stops at the first failure or a confirmation that never comes.
    func publishOneAtATime(_ client: HeraldClient, topic: String, body: [UInt8], count: Int) {
        for _ in 0..<count {
            let index = state.withLock { entries in
                entries.append(Entry(sentAt: .now))
                return entries.count - 1
            }
            let done = DispatchSemaphore(value: 0)
            client.publish(topic: topic, body: body) { [self] result in
                state.withLock {
                    $0[index].confirmedAt = .now
                    $0[index].result = result
                }
                done.signal()
            }
            guard done.wait(timeout: .now() + 60) == .success, entries[index].succeeded else { return }
        }
    }
}
