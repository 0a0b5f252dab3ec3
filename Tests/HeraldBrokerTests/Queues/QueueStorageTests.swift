import HeraldCore
import Testing
@testable import HeraldBroker

/// The two containers under QueueCore, against plain arrays.
@Suite struct QueueStorageTests {
    @Test func ringDequeMatchesAnArrayThroughWrapsRemovalsAndShrinks() {
        var rng = SplitMix64(seed: 7)
        var deque = RingDeque<Int>()
        var model: [Int] = []
        for step in 0..<20_000 {
            switch rng.next() % 7 {
            case 0, 1, 2:
                deque.append(step)
                model.append(step)
            case 3, 4:
                #expect(deque.popFirst() == model.first)
                if !model.isEmpty { model.removeFirst() }
            case 5 where !model.isEmpty:
                let offset = Int(rng.next() % UInt64(model.count))
                #expect(deque.remove(at: offset) == model.remove(at: offset))
            default:
                let removed = deque.removeAll { $0 % 13 == 0 }
                #expect(removed == model.filter { $0 % 13 == 0 })
                model.removeAll { $0 % 13 == 0 }
            }
            #expect(deque.count == model.count)
            if step % 500 == 0 {
                var copy: [Int] = []
                deque.forEach { copy.append($0) }
                #expect(copy == model)
            }
        }
    }

    @Test func minHeapPopsInOrderAndCountsWhatIsDue() {
        var rng = SplitMix64(seed: 11)
        var heap = MinHeap<DelayTime>()
        var model: [Int64] = []
        for _ in 0..<2000 {
            let time = Int64(rng.next() % 1000)
            heap.push(DelayTime(heapTime: time))
            model.append(time)
        }
        var due = 0
        heap.forEach(dueBy: 250) { _ in due += 1 }
        #expect(due == model.filter { $0 <= 250 }.count)
        heap.filter { $0.heapTime % 2 == 0 }
        var popped: [Int64] = []
        while let next = heap.popMin() { popped.append(next.heapTime) }
        #expect(popped == model.filter { $0 % 2 == 0 }.sorted())
    }
}
