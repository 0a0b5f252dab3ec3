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
                #expect(Array(buffer.pendingBytes().prefix(take)) == Array(expected.prefix(take)))
                buffer.consume(take)
                expected.removeFirst(take)
                #expect(buffer.count == expected.count)
            }
            #expect(buffer.pendingBytes() == expected)
        }

        /// Pending bytes never move: appends past the first chunk go to new chunks, and the write
        /// offered next (`readable`) is the front chunk's bytes, at the address they were written.
        @Test func appendingNeverMovesPendingBytes() {
            var buffer = OutputBuffer()
            defer { buffer.release() }
            let first = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            first.withUnsafeBytes { buffer.append($0) }
            #expect(buffer.capacity == OutputBuffer.minimumCapacity)
            let storage = buffer.readable.baseAddress
            buffer.consume(2_000)
            var expected = Array(first[2_000...])
            for round in 0..<40 {  // ≈ 280 KB more: several chunks, one append larger than a chunk
                let size = round == 20 ? OutputBuffer.chunkCapacity + 1 : 7_000
                let more = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ round) }
                more.withUnsafeBytes { buffer.append($0) }
                expected += more
                #expect(buffer.readable.baseAddress == storage.map { $0 + 2_000 })
            }
            #expect(buffer.readable.count == 8_000)  // the first chunk's share; 7,000 did not fit after it
            #expect(buffer.pendingBytes() == expected)
            #expect(buffer.count == expected.count)
            var drained: [UInt8] = []
            while !buffer.isEmpty {  // as the connection writes: front chunk by front chunk
                let take = min(buffer.readable.count, 5_000)
                drained += buffer.readable.prefix(take)
                buffer.consume(take)
            }
            #expect(drained == expected)
            buffer.shrinkIfEmpty()
            #expect(buffer.capacity <= OutputBuffer.retainedCapacity)
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
            #expect(buffer.pendingBytes() == Array(stream[kept]) + Array("ERR\r\n".utf8))
            // The buffer keeps working: the ERR is a call of its own.
            buffer.consume(kept.count + 2)
            #expect(buffer.isMidCall)
            #expect(buffer.discardUnstarted() == 0)
            #expect(buffer.pendingBytes() == Array("R\r\n".utf8))
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
            for _ in 0..<1_500 {
                switch random.next() % 8 {
                case 0, 1, 2:
                    let size = Int(random.next() % 2000) + 1
                    let call = (0..<size).map { _ -> UInt8 in next &+= 1; return next }
                    call.withUnsafeBytes { buffer.append($0) }
                    calls.append(call)
                case 3:
                    // In place, with room reserved well past what is written (often a new chunk),
                    // and sometimes nothing written at all (an empty reserved chunk).
                    let size = random.next() % 4 == 0 ? 0 : Int(random.next() % 2000) + 1
                    let call = (0..<size).map { _ -> UInt8 in next &+= 1; return next }
                    let room = size + Int(random.next() % UInt64(OutputBuffer.chunkCapacity))
                    let written = buffer.append(maxBytes: max(room, 1)) { raw in
                        for i in 0..<size { raw[i] = call[i] }
                        return size
                    }
                    #expect(written == size)
                    if size > 0 { calls.append(call) }
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
                #expect(buffer.pendingBytes() == expected)
                if buffer.pendingBytes() != expected { return }
                #expect(buffer.isMidCall == (consumedOfFirst > 0))
            }
        }
    }
}
