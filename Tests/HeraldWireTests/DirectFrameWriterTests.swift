import Testing
@testable import HeraldCore
@testable import HeraldWire

@Suite struct DirectFrameWriterTests {
    private func direct(capacity: Int, _ write: (UnsafeMutableRawPointer) -> Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xEE, count: capacity + 8)
        let written = bytes.withUnsafeMutableBytes { raw in
            raw.baseAddress.map(write) ?? 0
        }
        #expect(written <= capacity)
        #expect(bytes[capacity...].allSatisfy { $0 == 0xEE })
        return Array(bytes[0..<written])
    }

    /// Every digit count, at and around each power of ten.
    @Test func decimalsMatchTheirText() {
        var values: [UInt64] = [0, 1, 9, UInt64.max - 1, UInt64.max]
        var power: UInt64 = 1
        for _ in 0..<19 {
            power *= 10
            values += [power - 1, power, power + 1]
        }
        for value in values {
            let got = direct(capacity: 20) { base in
                var writer = RawWriter(base: base.assumingMemoryBound(to: UInt8.self))
                writer.decimal(value)
                return writer.at
            }
            #expect(got == Array(String(value).utf8))
        }
    }

    @Test(arguments: [
        MessageID(text: "5b0e6a4c-3f7e-4c2a-9d61-0f1e2d3c4b5a"), MessageID(text: "m-1"), MessageID.random(),
    ])
    func messageMatchesFrameEncoder(id: MessageID) {
        let cases: [(UInt64, UInt64, String, [UInt8], [UInt8], Bool, String?)] = [
            (0, 0, "t", [], [], false, nil),
            (7, 1, "orders", [1, 2, 3], Array("hi\r\n".utf8), false, nil),
            (UInt64.max, UInt64.max, "o.fifo", [], [0xFF], true, "g-1"),
            (10, 99, String(repeating: "x", count: 256), [9], Array(repeating: 0x41, count: 1000), true, nil),
        ]
        for (sid, tag, topic, attributes, body, redelivered, group) in cases {
            var expected: [UInt8] = []
            FrameEncoder.appendMessage(
                sid: sid, deliveryTag: tag, topic: topic, messageID: id, attributes: attributes, body: body,
                redelivered: redelivered, groupID: group, to: &expected)
            let capacity = DirectFrameWriter.messageCapacity(
                topic: topic, messageID: id, attributesCount: attributes.count, bodyCount: body.count, groupID: group)
            let got = direct(capacity: capacity) {
                DirectFrameWriter.writeMessage(
                    sid: sid, deliveryTag: tag, topic: topic, messageID: id, attributes: attributes, body: body,
                    redelivered: redelivered, groupID: group, to: $0)
            }
            #expect(got == expected)
        }
    }

    @Test func publishedMatchesFrameEncoder() {
        for id in [MessageID.random(), MessageID(text: "abc")] {
            for requestID: UInt64 in [0, 9, 10, 12_345, UInt64.max] {
                var expected: [UInt8] = []
                FrameEncoder.appendPublished(requestID: requestID, messageID: id, to: &expected)
                let got = direct(capacity: DirectFrameWriter.publishedCapacity(messageID: id)) {
                    DirectFrameWriter.writePublished(requestID: requestID, messageID: id, to: $0)
                }
                #expect(got == expected)
            }
        }
    }

    /// The message-taking writer: the same bytes as `FrameEncoder` for a message with a kept
    /// attribute section, with attributes to encode, and with none; nothing written when the
    /// frame does not fit its room.
    @Test func messageWriterReadsTheMessageAndRespectsItsRoom() throws {
        let attributes: MessageAttributes = ["color": .string("red"), "n": .number("5")]
        let encoded = AttributeCodec.encode(attributes)
        let messages = [
            Message(id: MessageID.random(), topic: "orders", attributes: attributes, body: Array("kept".utf8),
                    transportCache: EncodedAttributeSection(encoded)),
            Message(id: MessageID(text: "m-2"), topic: "o.fifo", attributes: attributes, body: Array("fresh".utf8), groupID: "g"),
            Message(id: MessageID.random(), topic: "t", attributes: [:], body: []),
            {  // an id set after the message was made: its text is rendered again
                var message = Message(id: MessageID.random(), topic: "t", attributes: [:], body: [7])
                message.id = MessageID.random()
                return message
            }(),
        ]
        for message in messages {
            for redelivered in [false, true] {
                var expected: [UInt8] = []
                FrameEncoder.appendMessage(
                    sid: 3, deliveryTag: 44, topic: message.topic, messageID: message.id,
                    attributes: AttributeCodec.section(for: message), body: message.body,
                    redelivered: redelivered, groupID: message.groupID, to: &expected)
                let room = DirectFrameWriter.messageCapacity(  // the writer needs its bound, not the exact size
                    topic: message.topic, messageID: message.id, attributesCount: AttributeCodec.section(for: message).count,
                    bodyCount: message.body.count, groupID: message.groupID)
                let got = direct(capacity: room) {
                    DirectFrameWriter.writeMessage(sid: 3, deliveryTag: 44, message: message, redelivered: redelivered, to: $0, room: room) ?? -1
                }
                #expect(got == expected)
                var untouched = [UInt8](repeating: 0xEE, count: 16)
                let refused = untouched.withUnsafeMutableBytes { raw in
                    raw.baseAddress.flatMap { DirectFrameWriter.writeMessage(sid: 3, deliveryTag: 44, message: message, redelivered: redelivered, to: $0, room: 16) }
                }
                #expect(refused == nil)
                #expect(untouched.allSatisfy { $0 == 0xEE })
            }
        }
    }
}
