import HeraldCore
@testable import HeraldWire
import Testing

/// The client decoder remembers the last valid PUB topic (`TopicCache`): runs of PUBs to one
/// topic, topics of the same length, and a bad topic after a good one must all decode exactly as
/// without the memo.
@Suite struct TopicCacheTests {
    @Test func publishesKeepTheirOwnTopicsAcrossTheMemo() {
        let topics = ["orders", "orders", "payment", "orders", "orderz", "orders", "a-b", "orderz"]
        var stream: [UInt8] = []
        for (index, topic) in topics.enumerated() {
            FrameEncoder.appendPublish(topic: topic, requestID: UInt64(index), attributes: [], body: Array(topic.utf8), to: &stream)
        }
        let decoded = decodeClient(stream)
        let expected = topics.enumerated().map { index, topic in
            Decoded<ClientFrame>.frame(.publish(PublishFrame(topic: topic, requestID: UInt64(index), body: Array(topic.utf8))))
        }
        #expect(decoded == expected)
    }

    @Test func anInvalidTopicAfterAValidOneIsStillRefused() {
        // "or ers" cannot be sent (a space splits tokens); "or\u{7F}ers" has the same length as
        // "orders" and is not a valid topic name.
        let stream = bytes("PUB orders 1 0 1\r\nx\r\nPUB or\u{7F}ers 2 0 1\r\ny\r\nPUB orders 3 0 1\r\nz\r\n")
        let decoded = decodeClient(stream)
        #expect(decoded == [
            .frame(.publish(PublishFrame(topic: "orders", requestID: 1, body: bytes("x")))),
            .failure(.invalidToken, fatal: false, reference: .request(2)),
            .frame(.publish(PublishFrame(topic: "orders", requestID: 3, body: bytes("z")))),
        ])
    }

    @Test func theMemoAnswersOnlyForTheSameBytes() {
        var memo = TopicCache()
        let text = bytes("alpha beta alphx alpha")
        text.withUnsafeBufferPointer { buffer in
            var line = ControlLine(bytes: buffer, range: 0..<text.count, offset: 0)
            var seen: [String?] = []
            while let token = line.next() { seen.append(memo.topic(line, token)) }
            #expect(seen == ["alpha", "beta", "alphx", "alpha"])
        }
    }
}
