import HeraldCore
import Testing
@testable import HeraldBroker

@Suite struct InFlightLogTests {
    func message(_ n: UInt64) -> Message {
        Message(id: MessageID(text: "\(n)"), topic: "t", attributes: [:], body: [])
    }

    @Test func acksInAnyOrderMatchASetModel() {
        var log = InFlightLog()
        var model = Set<UInt64>()
        var generator = Xoshiro256StarStar(seed: 7)
        var next: UInt64 = 1
        for _ in 0..<2_000 {
            for _ in 0..<Int(generator.next() % 4) {
                log.append(tag: next, message: message(next), size: 1)
                model.insert(next)
                next += 1
            }
            let tag = generator.next() % (next + 2)  // sometimes unknown or already acked
            let removed = log.remove(tag: tag)
            #expect(removed == (model.remove(tag) != nil))
            #expect(log.count == model.count)
        }
        let rest = log.removeAll().map { UInt64($0.message.id.text) ?? 0 }
        #expect(rest == model.sorted())
        #expect(log.count == 0 && log.storedCount == 0)
    }

    @Test func oneOldUnackedDeliveryDoesNotPinMemory() {
        var log = InFlightLog()
        log.append(tag: 1, message: message(1), size: 1)
        for tag in UInt64(2)...100_000 {
            log.append(tag: tag, message: message(tag), size: 1)
            let removed = log.remove(tag: tag)
            #expect(removed)
        }
        #expect(log.count == 1)
        #expect(log.storedCount < 200)
        #expect(log.removeAll().map(\.message.id.text) == ["1"])
    }
}
