// Delivery guarantees end to end: redelivery after a session resume, and slow consumers cut off
// without holding up the fast ones.
import Dispatch
import Foundation
import HeraldClient
import HeraldCore
import HeraldNet
import HeraldTestSupport
import HeraldWire
import Synchronization
import Testing
@testable import HeraldServer

extension Integration {
    @Suite struct Delivery {
        @Test func aResumedSessionGetsItsUnackedMessagesAgainInOrder() throws {
            let server = try TestServer()
            defer { server.stop() }
            let topic = "resume"
            let sid: UInt64 = 7

            // Anonymous (the default configuration): the server issues the session id to resume.
            let first = try server.client()
            let session = first.session
            let firstGot = Collector<ClientDelivery>()
            _ = try first.subscribe(topic: topic, ackMode: .manual, credit: 100, sid: sid) { firstGot.append($0) }

            let publisher = try server.client()
            defer { publisher.close() }
            var ids: [MessageID] = []
            for n in 0..<10 {
                ids.append(try publisher.publish(topic: topic, attributes: ["n": .number(String(n))], body: Array("m\(n)".utf8)))
            }
            #expect(firstGot.waitForCount(10))
            let delivered = firstGot.all
            #expect(delivered.map(\.messageID) == ids)
            #expect(delivered.allSatisfy { !$0.redelivered })

            // Ack messages 0, 1 and 4; the rest stay unacked.
            let acked: Set<Int> = [0, 1, 4]
            for index in acked.sorted() { first.ack(sid: sid, tag: delivered[index].deliveryTag) }
            // A round trip after the ACK frames: the server handled them before this PUBOK.
            _ = try first.publish(topic: "resume-sync", body: Array("sync".utf8))
            first.close()
            #expect(first.waitUntilClosed(timeout: .seconds(5)))
            // The server side detaches when it sees the close; wait for the broker to notice.
            #expect(waitUntil { server.server.broker.gauges.attachedSessions <= 1 })

            let second = try server.client(session: session)
            defer { second.close() }
            #expect(second.session == session)
            let secondGot = Collector<ClientDelivery>()
            _ = try second.subscribe(topic: topic, ackMode: .manual, credit: 100, sid: sid) { secondGot.append($0) }
            let unacked = (0..<10).filter { !acked.contains($0) }.map { ids[$0] }
            #expect(secondGot.waitForCount(unacked.count))
            let again = secondGot.all
            #expect(again.map(\.messageID) == unacked, "exactly the unacked messages, in publish order")
            #expect(again.allSatisfy { $0.redelivered })
            #expect(again.allSatisfy { $0.sid == sid })
            let maxOldTag = delivered.map(\.deliveryTag).max() ?? 0
            #expect(again.allSatisfy { $0.deliveryTag > maxOldTag }, "redeliveries get new tags")
            #expect(again.map(\.body) == (0..<10).filter { !acked.contains($0) }.map { Array("m\($0)".utf8) })

            // New messages follow, not flagged.
            let fresh = try publisher.publish(topic: topic, body: Array("fresh".utf8))
            #expect(secondGot.waitForCount(unacked.count + 1))
            let last = secondGot.all.last
            #expect(last?.messageID == fresh)
            #expect(last?.redelivered == false)
            #expect(secondGot.count == unacked.count + 1, "acked messages were not redelivered")
        }

        @Test func aSlowConsumerIsCutOffWithoutSlowingOthers() throws {
            let server = try TestServer { config in
                config.limits.maxPendingMessagesPerSubscriber = 50
            }
            defer { server.stop() }
            let topic = "slow"
            let total = 400

            // Slow: credit 5, manual acks it never sends → the pending queue overflows at 50.
            let slow = try server.client()
            defer { slow.close() }
            let slowGot = Collector<ClientDelivery>()
            let slowErrors = Collector<ClientError>()
            let slowClosed = Collector<String>()
            slow.onError { slowErrors.append($0) }
            slow.onClose { slowClosed.append($0) }
            _ = try slow.subscribe(topic: topic, ackMode: .manual, credit: 5) { slowGot.append($0) }

            let fast = try server.client()
            defer { fast.close() }
            let fastGot = Collector<ClientDelivery>()
            _ = try fast.subscribe(topic: topic, ackMode: .afterHandler, credit: 100) { fastGot.append($0) }

            let publisher = try server.client()
            defer { publisher.close() }
            // Confirmed windows of 20: a burst larger than a subscriber's credit + pending bound
            // arrives in one publish batch and would overflow even a subscriber that acks at once.
            var confirmed: [MessageID] = []
            while confirmed.count < total {
                let base = confirmed.count
                let results = publishAll(publisher, topic: topic, count: 20) { n in ([:], Array("message \(base + n)".utf8)) }
                for result in results {
                    guard case .success(let id)? = result else {
                        Issue.record("publish not confirmed: \(String(describing: result))")
                        return
                    }
                    confirmed.append(id)
                }
            }
            #expect(fastGot.waitForCount(total, timeout: .seconds(20)), "the fast subscriber got everything (\(fastGot.count))")
            let fastIDs = fastGot.all.map(\.messageID)
            let inOrder = fastIDs == confirmed
            #expect(inOrder, "in order, none missing (\(fastIDs.count) of \(confirmed.count))")

            #expect(waitUntil { !slowClosed.all.isEmpty }, "the slow subscriber's connection was closed")
            #expect(slowErrors.all.contains { $0.code == "SlowConsumer" }, "it was told why: \(slowErrors.all)")
            #expect(slowGot.count == 5, "it got only its credit's worth")
            #expect(server.server.broker.stats.slowConsumerDisconnects == 1)
            // Later messages still reach the fast subscriber.
            _ = try publisher.publish(topic: topic, body: Array("after".utf8))
            #expect(fastGot.waitForCount(total + 1))
        }

        /// A subscriber stops reading while a publisher floods it, so the server's outbound buffer
        /// for it holds MSG frames (beyond what the socket buffers took) when the broker declares
        /// it slow. It must still learn why it was cut off (docs/PROTOCOL.md §6.3): once it reads
        /// again, its byte stream is whole MSG frames, in publish order, then
        /// `ERR SlowConsumer - …`, then EOF — not a connection cut mid-MSG. It even sent a PING
        /// after the server stopped reading it, which must not turn the close into a reset.
        @Test func aSlowConsumerWithQueuedOutputStillReadsWholeFramesThenTheError() throws {
            // Credit for 7 MiB of 32 KiB messages: more than the socket buffers hold (a few MiB on
            // loopback for a reader that never read), less than the 8 MiB outbound hard limit.
            let server = try TestServer { config in
                config.limits.maxPendingMessagesPerSubscriber = 4
            }
            defer { server.stop() }
            let end = try readSlowSubscriberToTheEnd(server, topic: "flooded", credit: 224) {
                server.server.broker.stats.slowConsumerDisconnects == 1
            }
            #expect(end.error?.message.contains("pending queue") == true, "\(String(describing: end.error))")
            #expect(server.server.counters.snapshot.outputLimitDisconnects == 0)
            #expect(waitUntil { server.server.counters.snapshot.disconnects[.slowConsumer] == 1 })
            #expect(server.server.counters.snapshot.disconnects[.outputLimit] == nil)
        }

        /// A subscriber with unlimited credit whose socket lags for a moment (a second here; a
        /// descheduled client on a busy machine) paces the publisher instead of being cut off:
        /// its backed-up output counts as a backlog (`StreamSink.isBackedUp`), so the publisher
        /// stops being read until it drains. 1,200 × 32 KiB (37.5 MiB) is far past the 8 MiB
        /// outbound limit plus what the socket buffers hold, so without pacing it is cut off.
        @Test func aLaggingSubscriberPacesThePublisherInsteadOfBeingCutOff() throws {
            let server = try TestServer()
            defer { server.stop() }
            let topic = "lagging"
            let subscriber = try server.raw()
            defer { subscriber.close() }
            try subscriber.handshake()
            try subscriber.send(.subscribe(SubscribeFrame(sid: 1, topic: topic, ackMode: .auto, credit: UInt32.max)))
            _ = try #require(try subscriber.next(where: { if case .subscribed = $0 { return true } else { return false } }))
            subscriber.pauseReading()

            let publisher = try server.client()
            defer { publisher.close() }
            let body = [UInt8](repeating: UInt8(ascii: "p"), count: 32 << 10)
            let total = 1200
            let confirmed = Mutex<[MessageID]>([])
            let failures = Atomic<Int>(0)
            let publishing = DispatchGroup()
            DispatchQueue.global().async(group: publishing) {
                var sent = 0
                while sent < total {
                    for result in publishAll(publisher, topic: topic, count: 40, timeout: .seconds(60), make: { _ in ([:], body) }) {
                        if case .success(let id)? = result { confirmed.withLock { $0.append(id) } } else { failures.add(1, ordering: .relaxed) }
                    }
                    sent += 40
                }
            }
            Thread.sleep(forTimeInterval: 1)
            subscriber.resumeReading()
            var received: [MessageID] = []
            while received.count < total, let frame = try subscriber.next(timeout: .seconds(30)) {
                if case .message(let message) = frame { received.append(message.messageID) }
                if case .error(let error) = frame { Issue.record("cut off: \(error)"); break }
            }
            publishing.wait()
            #expect(failures.load(ordering: .relaxed) == 0)
            #expect(server.server.counters.snapshot.outputLimitDisconnects == 0)
            #expect(received.count == total)
            let inOrder = received.elementsEqual(confirmed.withLock { $0 })
            #expect(inOrder, "every confirmed message, in publish order")
        }

        /// The other slow-consumer bound: a subscriber with unlimited credit that does not read
        /// fills its outbound buffer to the hard limit. It is told so the same way.
        @Test func aSubscriberOverTheOutboundLimitStillReadsWholeFramesThenTheError() throws {
            let server = try TestServer()
            defer { server.stop() }
            let end = try readSlowSubscriberToTheEnd(server, topic: "overflowing", credit: UInt32.max) {
                server.server.counters.snapshot.outputLimitDisconnects == 1
            }
            #expect(end.error?.message.contains("outbound buffer") == true, "\(String(describing: end.error))")
            #expect(server.server.broker.stats.slowConsumerDisconnects == 0)
            #expect(waitUntil { server.server.counters.snapshot.disconnects[.outputLimit] == 1 })
            #expect(server.server.counters.snapshot.disconnects[.slowConsumer] == nil)
        }
    }
}

/// Subscribes a raw client with `credit` (auto ack), stops reading, publishes 32 KiB messages in
/// confirmed windows until `cutOff` holds, then reads what the subscriber gets until EOF and checks
/// it: whole frames only, MSG frames that are a prefix of the publish order, then one fatal
/// `ERR SlowConsumer` last, then a clean close. Returns that ERR.
private func readSlowSubscriberToTheEnd(
    _ server: TestServer, topic: String, credit: UInt32, cutOff: () -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> (error: ErrorFrame?, messages: Int) {
    let subscriber = try server.raw()
    defer { subscriber.close() }
    try subscriber.handshake()
    try subscriber.send(.subscribe(SubscribeFrame(sid: 1, topic: topic, ackMode: .auto, credit: credit)))
    guard case .subscribed? = try subscriber.next(where: { if case .subscribed = $0 { return true } else { return false } }) else {
        Issue.record("no SUBOK", sourceLocation: sourceLocation)
        return (nil, 0)
    }
    subscriber.pauseReading()

    let publisher = try server.client()
    defer { publisher.close() }
    let body = [UInt8](repeating: UInt8(ascii: "s"), count: 32 << 10)
    var confirmed: [MessageID] = []
    while !cutOff() && confirmed.count < 2000 {
        for result in publishAll(publisher, topic: topic, count: 32, make: { _ in ([:], body) }) {
            guard case .success(let id)? = result else {
                Issue.record("publish not confirmed: \(String(describing: result))", sourceLocation: sourceLocation)
                return (nil, 0)
            }
            confirmed.append(id)
        }
    }
    #expect(cutOff(), "cut off after \(confirmed.count) messages", sourceLocation: sourceLocation)

    // The server no longer reads this client; what it sends now stays unread there.
    try subscriber.send(.ping)
    subscriber.resumeReading()
    let (frames, endedOnFrameBoundary) = try subscriber.readToEnd(timeout: .seconds(20))
    #expect(endedOnFrameBoundary, "the stream ended inside a frame", sourceLocation: sourceLocation)
    #expect(subscriber.connection.closeReason == .peerClosed, "\(String(describing: subscriber.connection.closeReason))",
            sourceLocation: sourceLocation)
    let messages = frames.dropLast().compactMap { frame -> DeliveryFrame? in
        if case .message(let m) = frame { return m }
        return nil
    }
    let others = frames.dropLast().filter { if case .message = $0 { return false } else if case .ping = $0 { return false } else { return true } }
    #expect(others.isEmpty, "only MSG (and PING) frames before the ERR: \(others)", sourceLocation: sourceLocation)
    #expect(!messages.isEmpty, sourceLocation: sourceLocation)
    #expect(messages.map(\.messageID) == Array(confirmed.prefix(messages.count)), "whole MSG frames in publish order, none skipped",
            sourceLocation: sourceLocation)
    #expect(messages.allSatisfy { $0.sid == 1 && $0.body == body }, sourceLocation: sourceLocation)
    guard case .error(let error)? = frames.last else {
        Issue.record("the last frame is not an ERR (\(frames.count) frames, \(messages.count) MSG)", sourceLocation: sourceLocation)
        return (nil, messages.count)
    }
    #expect(error.code == .slowConsumer, sourceLocation: sourceLocation)
    #expect(error.reference == .none, "fatal form: ERR SlowConsumer - <text>", sourceLocation: sourceLocation)
    return (error, messages.count)
}
