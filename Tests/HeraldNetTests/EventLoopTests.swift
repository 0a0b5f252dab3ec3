import Dispatch
@testable import HeraldNet
import Synchronization
import Testing

extension NetTests {
    @Suite struct EventLoops {
        /// The loops (-1: none) that witnesses were dropped on, in order.
        final class DropLog: Sendable {
            let loops = Mutex<[Int]>([])
            let dropped = DispatchSemaphore(value: 0)
        }

        final class Witness: Sendable {
            let log: DropLog
            init(_ log: DropLog) { self.log = log }
            deinit {
                let index = EventLoop.current?.index ?? -1
                log.loops.withLock { $0.append(index) }
                log.dropped.signal()
            }
        }

        /// Holds a witness until a body clears it.
        final class Holder: @unchecked Sendable {
            var witness: Witness?
            init(_ witness: Witness) { self.witness = witness }
        }

        @Test func currentNamesTheLoopRunningTheCallerAndNothingElsewhere() {
            let group = EventLoopGroup(loopCount: 2, label: "test.current")
            #expect(EventLoop.current == nil)
            for loop in group.loops {
                let seen = loop.queue.sync { EventLoop.current }
                #expect(seen === loop)
            }
        }

        @Test func batchedBodiesRunOnTheirLoopInOrder() {
            let group = EventLoopGroup(loopCount: 2, label: "test.batched")
            let log = DropLog()
            let ran = Mutex<[Int]>([])
            let holders = (0..<3).map { _ in Holder(Witness(log)) }
            // Handed over from loop 0 and from off every loop; each releases its holder's witness.
            group.loops[0].queue.sync {
                for (index, holder) in holders.enumerated().prefix(2) {
                    group.loops[1].executeBatched {
                        ran.withLock { $0.append(index) }
                        holder.witness = nil
                    }
                }
            }
            group.loops[1].executeBatched {
                ran.withLock { $0.append(2) }
                holders[2].witness = nil
            }
            for _ in 0..<3 { #expect(log.dropped.wait(timeout: .now() + 10) == .success) }
            #expect(ran.withLock { $0 } == [0, 1, 2])
            #expect(log.loops.withLock { $0 } == [1, 1, 1])
        }
    }
}
