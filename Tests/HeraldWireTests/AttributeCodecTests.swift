import Testing
import HeraldCore
@testable import HeraldWire

@Suite struct AttributeCodecTests {
    @Test func roundTripsEveryKindExactly() throws {
        let encoded = AttributeCodec.encode(sampleAttributes)
        #expect(encoded.count == AttributeCodec.encodedSize(sampleAttributes))
        #expect(try AttributeCodec.decode(encoded) == sampleAttributes)
        // Slices decode too (the decoder works on the frame's section in place).
        let framed = [0xAA] + encoded + [0xBB]
        #expect(try AttributeCodec.decode(framed[1..<(framed.count - 1)]) == sampleAttributes)
    }

    @Test func framesDecodeTheirAttributesAndTagErrorsWithTheirReference() throws {
        let publish = PublishFrame(topic: "t", requestID: 5, attributes: sampleAttributes, body: [1])
        #expect(try publish.decodeAttributes() == sampleAttributes)
        let broken = PublishFrame(topic: "t", requestID: 5, attributes: [1], body: [1])
        let error = #expect(throws: WireError.self) { try broken.decodeAttributes() }
        #expect(error.map { ErrorFrame($0) } == ErrorFrame(code: .protocolError, reference: .request(5), message: error?.message ?? ""))
        let delivery = DeliveryFrame(sid: 3, deliveryTag: 1, topic: "t", messageID: MessageID(text: "m"), attributes: [9], body: [])
        #expect(throws: WireError.self) { try delivery.decodeAttributes() }
        #expect((try? delivery.decodeAttributes()) == nil)
    }

    /// Texts are validated as UTF-8 whichever path reads them: ASCII, other valid UTF-8, and
    /// bytes that are not UTF-8 (refused, naming the attribute).
    @Test func textsAreValidatedAsUTF8() throws {
        let unicode: MessageAttributes = ["naïve": .string("größe ✓"), "k": .string("plain")]
        #expect(try AttributeCodec.decode(AttributeCodec.encode(unicode)) == unicode)
        // count 1, name "k", type "String", string kind, value 0xC3 0x28 (an invalid sequence)
        var broken = AttributeCodec.encode(["k": .string("ab")])
        broken[broken.count - 2] = 0xC3
        broken[broken.count - 1] = 0x28
        let error = #expect(throws: WireError.self) { try AttributeCodec.decode(broken) }
        #expect(error?.message.contains("not valid UTF-8") == true)
        #expect(AttributeCodec.text(utf8: UnsafeBufferPointer(start: nil, count: 0)) == "")
    }

    @Test func emptyIsZeroBytesAndZeroCountIsAccepted() throws {
        #expect(AttributeCodec.encode([:]).isEmpty)
        #expect(try AttributeCodec.decode([UInt8]()) == [:])
        #expect(try AttributeCodec.decode([0]) == [:])
    }

    @Test func encodingIsCanonicalAndDocumented() throws {
        let encoded = AttributeCodec.encode(["b": .binary([9]), "a": .string("x")])
        // count 2; "a" "String" 'S' "x"; "b" "Binary" 'B' 0x09
        #expect(encoded == [2, 1, 0x61, 6] + bytes("String") + [0x53, 1, 0x78, 1, 0x62, 6] + bytes("Binary") + [0x42, 1, 9])
    }

    @Test func longLengthsUseMultiByteVarints() throws {
        let big: MessageAttributes = ["v": .string(String(repeating: "x", count: 70_000))]
        let encoded = AttributeCodec.encode(big)
        #expect(encoded.count == AttributeCodec.encodedSize(big))
        #expect(try AttributeCodec.decode(encoded) == big)
    }

    @Test(arguments: [
        [UInt8]([1]),  // count 1, nothing else
        [1, 5, 0x61],  // name longer than the data
        [1, 1, 0x61, 6] + Array("String".utf8) + [0x58, 1, 0x78],  // unknown kind 'X'
        [1, 1, 0x61, 6] + Array("String".utf8) + [0x53, 2, 0x78],  // value truncated
        [1, 1, 0x61, 6] + Array("String".utf8) + [0x53, 1, 0x78, 0],  // trailing byte
        [2, 1, 0x61, 1, 0x53, 0x53, 0, 1, 0x61, 1, 0x53, 0x53, 0],  // duplicate name
        [1, 1, 0xFF, 1, 0x53, 0x53, 0],  // name not UTF-8
        [1, 1, 0x61, 1, 0x53, 0x53, 1, 0xC3],  // string value not UTF-8
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],  // varint longer than 5 bytes
        [0xFF, 0xFF, 0xFF, 0xFF, 0x7F],  // count above 2^32-1
        [0xFF, 0xFF, 0xFF, 0x0F],  // huge count, few bytes: rejected before reserving
    ])
    func rejectsMalformedSections(input: [UInt8]) {
        let error = #expect(throws: WireError.self) { try AttributeCodec.decode(input) }
        #expect(error?.code == .invalidAttributes)
        #expect(error?.isFatal == false)
    }

    @Test func randomBytesDecodeOrFailButNeverCrash() {
        var generator = SplitMix64(seed: 7)
        let valid = AttributeCodec.encode(sampleAttributes)
        var decodedSome = 0
        for round in 0..<5000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                // Mutate a valid section: flip, truncate or extend.
                input = valid
                let position = Int(generator.next() % UInt64(input.count))
                switch generator.next() % 3 {
                case 0: input[position] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                case 1: input.removeSubrange(position...)
                default: input.insert(UInt8(truncatingIfNeeded: generator.next()), at: position)
                }
            }
            if let decoded = try? AttributeCodec.decode(input) {
                decodedSome += 1
                // Whatever decodes re-encodes to something that decodes to the same attributes.
                #expect((try? AttributeCodec.decode(AttributeCodec.encode(decoded))) == decoded)
            }
        }
        #expect(decodedSome > 0)
    }
}
