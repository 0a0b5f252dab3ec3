import Testing
import HeraldCore
@testable import HeraldWire

@Suite struct PipelineTests {
    @Test func tenThousandPipelinedPublishesDecodeQuickly() throws {
        let attributes = AttributeCodec.encode(["k": .string("v")])
        let body = [UInt8](repeating: 0x42, count: 128)
        var stream: [UInt8] = []
        for i in 0..<10_000 {
            FrameEncoder.appendPublish(topic: "orders", requestID: UInt64(i), attributes: attributes, body: body, to: &stream)
        }
        var decoded = 0
        do {
            var decoder = ClientFrameDecoder()
            // Feed in 64 KiB reads, like a socket would deliver.
            var offset = 0
            while offset < stream.count {
                let end = min(offset + 65_536, stream.count)
                decoder.append(stream[offset..<end])
                offset = end
                while let frame = try decoder.next() {
                    guard case .publish(let p) = frame, p.requestID == UInt64(decoded), p.body == body, p.attributes == attributes else {
                        Issue.record("unexpected frame \(decoded)")
                        return
                    }
                    decoded += 1
                }
            }
            try decoder.finish()
        }
        #expect(decoded == 10_000)
        // Decoding speed is measured by the benchmarks, not asserted here (docs/PERFORMANCE.md).
    }

    @Test func bufferDoesNotGrowWithStreamLength() throws {
        // Many frames fed one at a time: consumed bytes are dropped, so the buffer stays small.
        var decoder = ClientFrameDecoder()
        let frame = encode([ClientFrame.publish(PublishFrame(topic: "t", requestID: 1, body: [UInt8](repeating: 1, count: 100)))])
        for _ in 0..<5000 {
            decoder.append(frame[..<50])
            #expect(try decoder.next() == nil)
            decoder.append(frame[50...])
            #expect(try decoder.next() != nil)
        }
        #expect(decoder.buffer.bytes.capacity < 4 * frame.count + 8192)
    }
}
