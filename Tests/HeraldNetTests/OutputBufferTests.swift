@testable import HeraldNet
import Testing

extension NetTests {
    @Suite struct OutputBufferBehaviour {
        @Test func appendConsumeCompactAndGrowKeepOrder() {
            var buffer = OutputBuffer()
            defer { buffer.release() }
            var expected: [UInt8] = []
            var next: UInt8 = 0
            // Interleave appends and partial consumes across compaction and growth.
            for round in 0..<200 {
                let chunk = (0..<(round * 97 % 5000 + 1)).map { _ -> UInt8 in next &+= 1; return next }
                chunk.withUnsafeBytes { buffer.append($0) }
                expected += chunk
                let take = min(expected.count, round * 131 % 4000)
                #expect(Array(buffer.readable.prefix(take)) == Array(expected.prefix(take)))
                buffer.consume(take)
                expected.removeFirst(take)
                #expect(buffer.count == expected.count)
            }
            #expect(Array(buffer.readable) == expected)
        }

        @Test func inPlaceEncodingAndShrinking() {
            var buffer = OutputBuffer()
            defer { buffer.release() }
            let written = buffer.append(maxBytes: 16) { raw in
                for i in 0..<5 { raw[i] = UInt8(65 + i) }
                return 5
            }
            #expect(written == 5)
            #expect(Array(buffer.readable) == Array("ABCDE".utf8))
            // A body claiming more than it was given is clamped.
            _ = buffer.append(maxBytes: 4) { _ in 99 }
            #expect(buffer.count == 9)
            let big = [UInt8](repeating: 1, count: 1 << 20)
            big.withUnsafeBytes { buffer.append($0) }
            #expect(buffer.capacity >= (1 << 20) + 9)
            buffer.consume(buffer.count)
            buffer.shrinkIfEmpty()
            #expect(buffer.capacity == 0)  // large storage is given back once drained
        }
    }
}
