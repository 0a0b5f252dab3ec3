import HeraldCore
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

        /// `reserve` moves pending bytes to the front only when the consumed space before them is
        /// at least as large as they are; otherwise it grows. Either way the pending bytes stay in
        /// order. (16 KiB is the first allocation.)
        @Test(arguments: [
            (consumed: 9_000, moves: true),   // 1,000 pending behind 9,000 consumed: moved in place
            (consumed: 2_000, moves: false),  // 8,000 pending behind 2,000 consumed: grows instead
        ])
        func reserveMovesOnlyASmallBacklog(consumed: Int, moves: Bool) {
            var buffer = OutputBuffer()
            defer { buffer.release() }
            let first = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            first.withUnsafeBytes { buffer.append($0) }
            #expect(buffer.capacity == OutputBuffer.minimumCapacity)
            let storage = buffer.base
            buffer.consume(consumed)
            let second = (0..<7_000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
            second.withUnsafeBytes { buffer.append($0) }  // 6,384 bytes free at the end: not enough
            if moves {
                #expect(buffer.capacity == OutputBuffer.minimumCapacity)
                #expect(buffer.base == storage)
            } else {
                #expect(buffer.capacity == 2 * OutputBuffer.minimumCapacity)
            }
            #expect(Array(buffer.readable) == Array(first[consumed...]) + second)
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

        /// Write calls of 5, 7, 3 and 11 bytes (frames A, B, C, D at stream offsets 0, 5, 12, 15,
        /// ending at 26). After `sent` bytes went out, with `pinned` bytes owed to a TLS retry,
        /// dropping unstarted output keeps exactly `kept`, then the final bytes follow.
        @Test(arguments: [
            (sent: 0, pinned: 0, kept: 0..<0),     // nothing started: everything goes
            (sent: 2, pinned: 0, kept: 2..<5),     // A partly sent: A is finished
            (sent: 5, pinned: 0, kept: 5..<5),     // on a boundary: B, C, D go
            (sent: 5, pinned: 3, kept: 5..<12),    // a retry owes 3 bytes of B: B stays whole
            (sent: 6, pinned: 0, kept: 6..<12),    // B partly sent
            (sent: 6, pinned: 7, kept: 6..<15),    // the retry reaches into C: C stays whole
            (sent: 13, pinned: 1, kept: 13..<15),
            (sent: 14, pinned: 100, kept: 14..<26),  // pinned never exceeds what is pending
            (sent: 25, pinned: 0, kept: 25..<26),
            (sent: 26, pinned: 0, kept: 26..<26),  // all sent
        ])
        func discardingUnstartedOutputKeepsWholeFrames(sent: Int, pinned: Int, kept: Range<Int>) {
            var buffer = OutputBuffer()
            defer { buffer.release() }
            var stream: [UInt8] = []
            for (index, size) in [5, 7, 3, 11].enumerated() {
                let frame = [UInt8](repeating: UInt8(ascii: "A") + UInt8(index), count: size)
                if index == 1 {
                    _ = buffer.append(maxBytes: 64) { raw in  // in-place writes are calls too
                        for i in 0..<size { raw[i] = frame[i] }
                        return size
                    }
                } else {
                    frame.withUnsafeBytes { buffer.append($0) }
                }
                stream += frame
            }
            buffer.consume(sent)
            let dropped = buffer.discardUnstarted(keepingFront: pinned)
            #expect(dropped == stream.count - kept.upperBound)
            Array("ERR\r\n".utf8).withUnsafeBytes { buffer.append($0) }
            #expect(Array(buffer.readable) == Array(stream[kept]) + Array("ERR\r\n".utf8))
            // The buffer keeps working: the ERR is a call of its own.
            buffer.consume(kept.count + 2)
            #expect(buffer.isMidCall)
            #expect(buffer.discardUnstarted() == 0)
            #expect(Array(buffer.readable) == Array("R\r\n".utf8))
        }

        /// Random appends, partial consumes (across compaction and growth) and discards against a
        /// list-of-calls model: the kept bytes are always the partly sent call plus the calls the
        /// pinned prefix overlaps, nothing else.
        @Test func discardMatchesAModelOfWriteCalls() {
            var random = SplitMix64(seed: 0x5EED_0006)
            var buffer = OutputBuffer()
            defer { buffer.release() }
            var calls: [[UInt8]] = []  // pending calls, the first one possibly partly consumed
            var consumedOfFirst = 0
            var next: UInt8 = 0
            for _ in 0..<800 {
                switch random.next() % 8 {
                case 0, 1, 2, 3:
                    let size = Int(random.next() % 2000) + 1
                    let call = (0..<size).map { _ -> UInt8 in next &+= 1; return next }
                    call.withUnsafeBytes { buffer.append($0) }
                    calls.append(call)
                case 4, 5, 6:
                    let pending = calls.reduce(0) { $0 + $1.count } - consumedOfFirst
                    let take = pending == 0 ? 0 : Int(random.next() % UInt64(pending + 1))
                    buffer.consume(take)
                    var left = take
                    while left > 0 {
                        let inFirst = calls[0].count - consumedOfFirst
                        if left >= inFirst {
                            calls.removeFirst()
                            consumedOfFirst = 0
                            left -= inFirst
                        } else {
                            consumedOfFirst += left
                            left = 0
                        }
                    }
                default:
                    let pinned = Int(random.next() % 5000)
                    buffer.discardUnstarted(keepingFront: pinned)
                    // Model: keep calls while they are partly sent or start inside the pinned prefix.
                    var keep = 0
                    var offset = -consumedOfFirst  // where each call starts, relative to the front
                    for (index, call) in calls.enumerated() {
                        let partlySent = index == 0 && consumedOfFirst > 0
                        if partlySent || offset < pinned { keep = index + 1 } else { break }
                        offset += call.count
                    }
                    calls.removeLast(calls.count - keep)
                    if calls.isEmpty { consumedOfFirst = 0 }
                }
                let expected = Array(calls.joined().dropFirst(consumedOfFirst))
                #expect(Array(buffer.readable) == expected)
                if Array(buffer.readable) != expected { return }
                #expect(buffer.isMidCall == (consumedOfFirst > 0))
            }
        }
    }
}
