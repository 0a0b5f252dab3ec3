import Testing
@testable import HeraldBroker

@Suite struct FIFOQueueTests {
    @Test func keepsOrderAcrossCompactionAndPrepend() {
        var queue = FIFOQueue<Int>()
        var model: [Int] = []
        var next = 0
        for round in 0..<50 {
            for _ in 0..<(round % 7 + 3) {
                queue.append(next)
                model.append(next)
                next += 1
            }
            for _ in 0..<(round % 5 + 1) {
                #expect(queue.popFirst() == (model.isEmpty ? nil : model.removeFirst()))
            }
            if round % 10 == 9 {
                let front = [-round, -round - 1]
                queue.prepend(contentsOf: front)
                model.insert(contentsOf: front, at: 0)
            }
            #expect(queue.count == model.count)
        }
        while let value = queue.popFirst() { #expect(value == model.removeFirst()) }
        #expect(model.isEmpty && queue.isEmpty)
        queue.append(1)
        queue.removeAll()
        #expect(queue.popFirst() == nil)
    }
}
