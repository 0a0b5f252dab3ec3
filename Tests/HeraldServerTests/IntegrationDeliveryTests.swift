// Delivery guarantees end to end: redelivery after a session resume, and slow consumers cut off
// without holding up the fast ones.
import Dispatch
import Foundation
import HeraldClient
import HeraldCore
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
            let start = ContinuousClock.now
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
            let elapsed = ContinuousClock.now - start
            #expect(elapsed < .seconds(20))

            #expect(waitUntil { !slowClosed.all.isEmpty }, "the slow subscriber's connection was closed")
            #expect(slowErrors.all.contains { $0.code == "SlowConsumer" }, "it was told why: \(slowErrors.all)")
            #expect(slowGot.count == 5, "it got only its credit's worth")
            #expect(server.server.broker.stats.slowConsumerDisconnects == 1)
            // Later messages still reach the fast subscriber.
            _ = try publisher.publish(topic: topic, body: Array("after".utf8))
            #expect(fastGot.waitForCount(total + 1))
        }
    }
}
