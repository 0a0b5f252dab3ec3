import Dispatch
import HeraldBroker
import HeraldCore
import Synchronization
import Testing
@testable import HeraldServer

/// A session's inbox: one hop is asked for per drain, batches come out in the order they went
/// in, and concurrent publishers lose nothing and keep their own order.
@Suite struct DeliveryInboxTests {
    static func delivery(sid: UInt64, tag: UInt64) -> StreamDelivery {
        StreamDelivery(sid: sid, deliveryTag: tag, redelivered: false, message: Message(id: MessageID(high: sid, low: tag), topic: "t", attributes: [:], body: [1]))
    }

    @Test func onlyTheFirstAddAfterADrainAsksForAHop() {
        let inbox = DeliveryInbox()
        #expect(inbox.add([Self.delivery(sid: 1, tag: 1)]))
        #expect(!inbox.add([Self.delivery(sid: 1, tag: 2), Self.delivery(sid: 1, tag: 3)]))
        #expect(!inbox.add([Self.delivery(sid: 2, tag: 1)]))
        var taken: [[StreamDelivery]] = []
        inbox.take(into: &taken)
        #expect(taken.map { $0.map { "\($0.sid):\($0.deliveryTag)" } } == [["1:1"], ["1:2", "1:3"], ["2:1"]])
        var again: [[StreamDelivery]] = []
        inbox.take(into: &again)
        #expect(again.isEmpty)
        #expect(inbox.add([Self.delivery(sid: 1, tag: 4)]))  // drained: the next add needs a new hop
    }

    @Test func concurrentPublishersLoseNothingAndKeepTheirOrder() {
        let inbox = DeliveryInbox()
        let publishers = 4, batches = 2_000
        let hops = Mutex(0)
        var taken: [[StreamDelivery]] = []
        let drains = Mutex<[[StreamDelivery]]>([])
        DispatchQueue.concurrentPerform(iterations: publishers + 1) { worker in
            if worker == publishers {
                // A drainer racing the publishers, as the session's queue would.
                for _ in 0..<500 {
                    var chunk: [[StreamDelivery]] = []
                    inbox.take(into: &chunk)
                    drains.withLock { $0 += chunk }
                }
                return
            }
            for tag in 0..<batches {
                if inbox.add([Self.delivery(sid: UInt64(worker), tag: UInt64(tag))]) { hops.withLock { $0 += 1 } }
            }
        }
        inbox.take(into: &taken)
        let all = drains.withLock { $0 } + taken
        #expect(all.count == publishers * batches)
        for sid in 0..<publishers {
            let tags = all.flatMap { $0 }.filter { $0.sid == UInt64(sid) }.map(\.deliveryTag)
            #expect(tags == (0..<batches).map(UInt64.init))
        }
        #expect(hops.withLock { $0 } >= 1)
        #expect(hops.withLock { $0 } <= 501)  // at most one hop per drain, plus the first
    }
}
