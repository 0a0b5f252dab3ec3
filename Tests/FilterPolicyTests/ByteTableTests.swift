import HeraldCore
import Testing
@testable import FilterPolicy

/// The byte table keeps keys of up to 14 bytes inside the bucket and longer ones in the arena: every
/// key length around those limits, keys that differ only by trailing zero bytes or by one byte at
/// either end, and tags that differ, each found exactly (value and slot run) and no look-alike found.
@Suite struct ByteTableTests {
    @Test func inlineAndArenaKeysAreFoundExactly() {
        var rng = SplitMix64(seed: 7)
        var builder = ByteTableBuilder()
        var keys: [(tag: UInt32, bytes: [UInt8])] = []
        for length in 0...40 {
            for variant in 0..<3 {
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if variant == 1 { bytes = Array(repeating: 0, count: length) }
                keys.append((UInt32(variant), bytes))
            }
        }
        for (index, key) in keys.enumerated() {
            let range = SlotRange(start: Int32(index), count: Int32(1 + index % 5))
            let single = SlotEntry(slot: Int32(7 * index), .singleKeyBranch, Int32(index))
            _ = builder.value(tag: key.tag, bytes: key.bytes, range: range, single: single) { Int32(index) }
        }
        let table = builder.freeze()
        #expect(MemoryLayout<ByteTable.Entry>.offset(of: \ByteTable.Entry.range) == ByteTable.rangeOffset)
        defer { table.free() }
        func find(_ tag: UInt32, _ bytes: [UInt8]) -> Int32 {
            // A copy with room after it, so a read past the key's end would see other bytes.
            let padded = bytes + [0xAB, 0xCD, 0, 0, 0, 0, 0, 0]
            return padded.withUnsafeBufferPointer { table.find(tag: tag, $0.baseAddress ?? emptyBytes, bytes.count) }
        }
        // The slot entries a hit reads: a short key whose run is one slot keeps that entry in its
        // bucket, any other key points into the slot array; a key not stored has none.
        let slots = UnsafeMutablePointer<SlotEntry>.allocate(capacity: keys.count + 8)
        defer { slots.deallocate() }
        func findSlots(_ tag: UInt32, _ bytes: [UInt8]) -> (first: SlotEntry?, at: UnsafeRawPointer, count: Int) {
            let padded = bytes + [0xAB, 0xCD, 0, 0, 0, 0, 0, 0]
            let (at, count) = padded.withUnsafeBufferPointer {
                table.findSlots(tag: tag, $0.baseAddress ?? emptyBytes, bytes.count, slots: slots)
            }
            return (count > 0 ? at.load(as: SlotEntry.self) : nil, at, count)
        }
        for (index, key) in keys.enumerated() {
            #expect(find(key.tag, key.bytes) == Int32(index), "length \(key.bytes.count), tag \(key.tag)")
            let found = findSlots(key.tag, key.bytes)
            if index % 5 == 0 && key.bytes.count <= ByteTable.inlineLimit {
                #expect(found.count == 1 && found.first?.slot == Int32(7 * index) && found.first?.target == UInt32(index) | 1 << 30)
            } else {
                #expect(found.at == UnsafeRawPointer(slots + index) && found.count == 1 + index % 5)
            }
            #expect(findSlots(key.tag + 10, key.bytes).count == 0)
            // Look-alikes: another tag, one more zero byte, one byte changed at either end.
            #expect(find(key.tag + 10, key.bytes) == -1)
            if key.tag != 1 { #expect(find(key.tag, key.bytes + [0]) == -1, "length \(key.bytes.count) + zero") }
            if !key.bytes.isEmpty {
                var first = key.bytes; first[0] ^= 1
                var last = key.bytes; last[last.count - 1] ^= 0x80
                #expect(find(key.tag, first) == -1)
                #expect(find(key.tag, last) == -1)
                #expect(find(key.tag, Array(key.bytes.dropLast())) != Int32(index))
            }
        }
    }

    /// `findASCII` (attribute names): every ASCII key of 0–40 bytes is found as `find` finds it, and
    /// the same key with one byte made non-ASCII at any position gives -2 (the general path).
    @Test func findASCIIFindsASCIIKeysAndRejectsAnyNonASCIIByte() {
        var rng = SplitMix64(seed: 11)
        var builder = ByteTableBuilder()
        let tag = TableKind.attributeName.tag(0)
        let keys = (0...40).map { length in (0..<length).map { _ in UInt8.random(in: 0...127, using: &rng) } }
        for (index, key) in keys.enumerated() { _ = builder.value(tag: tag, bytes: key) { Int32(index) } }
        let table = builder.freeze()
        defer { table.free() }
        func findASCII(_ bytes: [UInt8]) -> Int32 {
            let padded = bytes + [0xAB, 0xCD, 0, 0, 0, 0, 0, 0]
            return padded.withUnsafeBufferPointer { table.findASCII(tag: tag, $0.baseAddress ?? emptyBytes, bytes.count) }
        }
        for (index, key) in keys.enumerated() {
            #expect(findASCII(key) == Int32(index), "length \(key.count)")
            if !keys.contains(key + [0x41]) { #expect(findASCII(key + [0x41]) == -1) }
            for position in key.indices {
                var marked = key
                marked[position] |= 0x80
                #expect(findASCII(marked) == -2, "length \(key.count), byte \(position)")
            }
        }
    }
}
