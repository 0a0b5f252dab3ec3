/// Flat, immutable lookup tables the compiled matcher reads on its hot path. They are built once per
/// snapshot from Swift arrays and copied into manually managed buffers, so matching does no ARC
/// traffic, no copy-on-write checks and no allocation. `CompiledStorage` owns every buffer and frees
/// them when the matcher goes away.

/// A run of key-slot ids inside `CompiledStorage.slots`.
@usableFromInline
struct SlotRange: Sendable, Hashable {
    @usableFromInline var start: Int32
    @usableFromInline var count: Int32
    @usableFromInline static let empty = SlotRange(start: 0, count: 0)
    @inlinable init(start: Int32, count: Int32) {
        self.start = start
        self.count = count
    }
}

/// A read-only buffer copied out of an array; freed explicitly by its owner.
@usableFromInline
struct Frozen<Element>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Element>
    @usableFromInline let count: Int

    init(_ array: [Element]) {
        count = array.count
        base = UnsafeMutablePointer<Element>.allocate(capacity: max(array.count, 1))
        array.withUnsafeBufferPointer { source in
            if let address = source.baseAddress { base.initialize(from: address, count: source.count) }
        }
    }

    @inlinable subscript(_ i: Int) -> Element {
        @inline(__always) get { base[i] }
    }

    func free() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}

// MARK: - Hashing

/// Two hashes over a tag's seed. Prefix and suffix keys use byte-at-a-time FNV-1a (`seed`, `step`,
/// `finish`): incremental, so one pass hashes every stored prefix length of a value. Every other
/// kind of key is hashed whole, eight bytes a step (`hash`): a lookup hashes several values per
/// message, and a byte-serial multiply chain was a visible part of a busy topic's cost.
@usableFromInline
enum ByteHash {
    @usableFromInline static let prime: UInt64 = 0x0000_0100_0000_01b3

    @inlinable @inline(__always)
    static func seed(_ tag: UInt32) -> UInt64 {
        (0xcbf2_9ce4_8422_2325 ^ (UInt64(tag) &* 0x9E37_79B9_7F4A_7C15))
    }

    @inlinable @inline(__always)
    static func step(_ h: UInt64, _ byte: UInt8) -> UInt64 {
        (h ^ UInt64(byte)) &* prime
    }

    /// Final avalanche so the low bits used for bucket selection depend on every byte.
    @inlinable @inline(__always)
    static func finish(_ h: UInt64) -> UInt64 {
        var x = h
        x ^= x >> 32
        x &*= 0xd6e8_feb8_6659_fd93
        x ^= x >> 32
        return x | 1  // 0 marks an empty bucket
    }

    /// The incremental hash of a whole key (what `seed`/`step`/`finish` reach after `count` bytes).
    @inlinable
    static func incremental(tag: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var h = seed(tag)
        var i = 0
        while i < count {
            h = step(h, bytes[i])
            i &+= 1
        }
        return finish(h)
    }

    /// Whether keys of this table tag are found through the incremental hash (prefix, suffix).
    @inlinable @inline(__always)
    static func isIncremental(tag: UInt32) -> Bool {
        let kind = tag & 7
        return kind == TableKind.prefix.rawValue || kind == TableKind.suffix.rawValue
    }

    @inlinable @inline(__always)
    static func mix(_ h: UInt64, _ word: UInt64) -> UInt64 {
        let x = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
        return x ^ (x >> 29)
    }

    /// A whole key. Keys of up to `ByteTable.inlineLimit` bytes hash their two packed bucket words
    /// (`packed`); longer ones go eight bytes a step.
    @inlinable @inline(__always)
    static func hash(tag: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        if count <= ByteTable.inlineLimit {
            let (low, high) = ByteTable.packInline(bytes, count)
            return packed(tag: tag, low, high)
        }
        return long(tag: tag, bytes, count)
    }

    /// A short key from its packed words (length in `high`'s top bits, so zero padding cannot make
    /// two lengths collide): two independent multiplies, then `finish`'s avalanche — a lookup is
    /// then a few cycles of hashing instead of a serial multiply per word (names and most values of
    /// a message are this short).
    @inlinable @inline(__always)
    static func packed(tag: UInt32, _ low: UInt64, _ high: UInt64) -> UInt64 {
        let t = UInt64(tag) &* 0x9E37_79B9_7F4A_7C15
        let a = (low ^ t) &* 0xbf58_476d_1ce4_e5b9
        let b = (high ^ 0xcbf2_9ce4_8422_2325 ^ (t >> 17)) &* 0x94d0_49bb_1331_11eb
        return finish(a ^ (b >> 31 | b << 33))
    }

    /// A key longer than `ByteTable.inlineLimit`, eight bytes a step; the length is mixed in first,
    /// so zero padding of the last word cannot make two lengths collide. Reads only the key's bytes.
    @inlinable
    static func long(tag: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        let raw = UnsafeRawPointer(bytes)
        var h = mix(seed(tag), UInt64(truncatingIfNeeded: count))
        var i = 0
        while i &+ 8 <= count {
            h = mix(h, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i &+= 8
        }
        let rest = count &- i
        if rest > 0 {
            let word: UInt64
            if count >= 8 {
                // The last eight bytes, shifted so only the ones not yet mixed remain.
                word = raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self) >> UInt64((8 &- rest) &* 8)
            } else {
                word = ByteTable.loadShort(raw, rest)  // the whole key: nothing was mixed yet
            }
            h = mix(h, word)
        }
        return finish(h)
    }
}

// MARK: - Byte-keyed table

/// Open-addressing map from (tag, byte string) to an Int32 value. Tags keep several logical maps in
/// one table (for instance "exact strings of path 7" and "prefixes of path 7").
@usableFromInline
struct ByteTableBuilder {
    var entries: [(tag: UInt32, bytes: [UInt8], value: Int32, range: SlotRange, single: SlotEntry?)] = []
    var seen: [ByteKey: Int] = [:]

    struct ByteKey: Hashable {
        var tag: UInt32
        var bytes: [UInt8]
    }

    /// Returns the value already stored for this key, or stores `make()`'s (with `range`, the slot
    /// run a hit reads through `ByteTable.Entry.hitSlots`; `.empty` for tables that only map to
    /// values). When the run is one slot, `single` is it: a key of at most `inlineLimit` bytes then
    /// keeps that slot entry itself in its bucket.
    mutating func value(tag: UInt32, bytes: [UInt8], range: SlotRange = .empty, single: SlotEntry? = nil, make: () -> Int32) -> Int32 {
        let key = ByteKey(tag: tag, bytes: bytes)
        if let index = seen[key] { return entries[index].value }
        let v = make()
        seen[key] = entries.count
        entries.append((tag, bytes, v, range, range.count == 1 ? single : nil))
        return v
    }

    func freeze() -> ByteTable {
        var capacity = 16
        while capacity < entries.count * 2 { capacity <<= 1 }
        let empty = ByteTable.Entry(low: 0, high: ByteTable.emptyMark, tag: 0, value: -1, range: .empty)
        var table = [ByteTable.Entry](repeating: empty, count: capacity)
        var arena: [UInt8] = []
        let mask = capacity - 1
        for entry in entries {
            let h = entry.bytes.withUnsafeBufferPointer { buffer in
                let base = buffer.baseAddress ?? emptyBytes
                return ByteHash.isIncremental(tag: entry.tag)
                    ? ByteHash.incremental(tag: entry.tag, base, buffer.count) : ByteHash.hash(tag: entry.tag, base, buffer.count)
            }
            var slot = Int(truncatingIfNeeded: h) & mask
            while table[slot].high != ByteTable.emptyMark { slot = (slot + 1) & mask }
            var (low, high): (UInt64, UInt64)
            var range = entry.range
            if entry.bytes.count <= ByteTable.inlineLimit {
                (low, high) = entry.bytes.withUnsafeBufferPointer { ByteTable.packInline($0.baseAddress ?? emptyBytes, $0.count) }
                if let single = entry.single {
                    // The slot entry's two words in place of the run (same layout: two 4-byte fields).
                    range = SlotRange(start: single.slot, count: Int32(bitPattern: single.target))
                    high |= ByteTable.oneSlotBit
                }
            } else {
                low = UInt64(UInt32(arena.count)) | UInt64(UInt32(entry.bytes.count)) << 32
                high = ByteTable.longMark
                arena.append(contentsOf: entry.bytes)
            }
            table[slot] = ByteTable.Entry(low: low, high: high, tag: entry.tag, value: entry.value, range: range)
        }
        return ByteTable(mask: mask, entries: AlignedBuffer(table), arena: Frozen(arena))
    }
}

/// A read-only buffer of records aligned to a cache line, so a 32-byte record never straddles two.
@usableFromInline
struct AlignedBuffer<Element>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Element>
    let count: Int

    init(_ array: [Element]) {
        count = array.count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Element>.stride, alignment: 64)
        base = raw.bindMemory(to: Element.self, capacity: max(count, 1))
        array.withUnsafeBufferPointer { source in
            if let address = source.baseAddress { base.initialize(from: address, count: source.count) }
        }
    }

    func free() {
        base.deinitialize(count: count)
        UnsafeMutableRawPointer(base).deallocate()
    }
}

@usableFromInline
struct ByteTable: Sendable {
    /// One bucket, 32 bytes: everything a probe compares, and what a hit needs next. Keys of up to
    /// 14 bytes are stored in the bucket itself (bytes 0..<8 in `low`, 8..<14 in `high`'s low 48
    /// bits, the length in its top 16) and compared as two words; longer keys keep (arena start,
    /// length) in `low` and `longMark` in `high`, and compare against the arena. No hash is kept:
    /// the packed words are the comparison. `range` is the key's slot run (exact, prefix, suffix,
    /// equals-ignore-case keys), so a hit goes straight to its slots instead of through a
    /// `tableRanges` record — on a busy topic one cache miss less per hit.
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var low: UInt64
        @usableFromInline var high: UInt64
        @usableFromInline var tag: UInt32
        @usableFromInline var value: Int32
        @usableFromInline var range: SlotRange
    }

    @usableFromInline static let inlineLimit = 14
    @usableFromInline static let longMark: UInt64 = 0xFFFF << 48
    /// `high` of an empty bucket: no key's (lengths are at most 14, or `longMark`).
    @usableFromInline static let emptyMark: UInt64 = 0xFFFE << 48
    /// Set in a short key's stored `high` when its bucket keeps its one slot entry in `range`'s
    /// place (a hit then reads no `slots` record either); probes compare `high` without it.
    @usableFromInline static let oneSlotBit: UInt64 = 1 << 56
    /// Where `Entry.range` starts (after low, high, tag, value; `ByteTableTests` checks it).
    @usableFromInline static let rangeOffset = 24

    @usableFromInline let mask: Int
    @usableFromInline let entries: AlignedBuffer<Entry>
    @usableFromInline let arena: Frozen<UInt8>

    /// The two words a key of at most `inlineLimit` bytes is stored as (zero-padded, length on top).
    /// Reads only bytes inside the key: overlapping loads from both ends, OR'd (a byte read twice
    /// lands in the same place both times).
    @inlinable @inline(__always)
    static func packInline(_ p: UnsafePointer<UInt8>, _ count: Int) -> (UInt64, UInt64) {
        let raw = UnsafeRawPointer(p)
        var low: UInt64 = 0
        var high: UInt64 = 0
        if count >= 8 {
            low = raw.loadUnaligned(as: UInt64.self)
            if count > 8 {
                high = raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self) >> UInt64((16 &- count) &* 8)
            }
        } else {
            low = loadShort(raw, count)
        }
        return (low, high | UInt64(count) << 48)
    }

    /// The `count` (< 8) bytes at `raw` as one zero-padded word, reading only those bytes: from 4
    /// up, two overlapping 4-byte loads OR'd (a byte read twice lands in the same place both times).
    @inlinable @inline(__always)
    static func loadShort(_ raw: UnsafeRawPointer, _ count: Int) -> UInt64 {
        if count >= 4 {
            let first = UInt64(raw.loadUnaligned(as: UInt32.self))
            let last = UInt64(raw.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self))
            return first | last << UInt64((count &- 4) &* 8)
        }
        var word: UInt64 = 0
        var i = 0
        while i < count {
            word |= UInt64(raw.load(fromByteOffset: i, as: UInt8.self)) << UInt64(i &* 8)
            i &+= 1
        }
        return word
    }

    /// The bucket of (tag, bytes) whose finished hash is `hash`, or nil.
    @inlinable @inline(__always)
    func entry(hash: UInt64, tag: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> UnsafeMutablePointer<Entry>? {
        if count <= ByteTable.inlineLimit {
            let (low, high) = ByteTable.packInline(bytes, count)
            return entry(hash: hash, tag: tag, low: low, high: high)
        }
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = entries.base + slot
            let h = entry.pointee.high
            if h == ByteTable.emptyMark { return nil }
            if h == ByteTable.longMark && entry.pointee.tag == tag && Int(entry.pointee.low >> 32) == count
                && arenaHolds(Int(UInt32(truncatingIfNeeded: entry.pointee.low)), bytes, count) {
                return entry
            }
            slot = (slot &+ 1) & mask
        }
    }

    /// The value for (tag, bytes) whose finished hash is `hash`, or -1.
    @inlinable @inline(__always)
    func find(hash: UInt64, tag: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
        entry(hash: hash, tag: tag, bytes, count)?.pointee.value ?? -1
    }

    /// The slot entries a hit on (tag, bytes) whose finished hash is `hash` reads, with their
    /// count (0 when absent); `slots` is the matcher's slot array.
    @inlinable @inline(__always)
    func findSlots(hash: UInt64, tag: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int, slots: UnsafePointer<SlotEntry>) -> (UnsafeRawPointer, Int) {
        guard let e = entry(hash: hash, tag: tag, bytes, count) else { return (UnsafeRawPointer(slots), 0) }
        return ByteTable.hitSlots(e, slots)
    }

    /// Where a found bucket's slot entries are: in the bucket itself (one), or its run in `slots`.
    @inlinable @inline(__always)
    static func hitSlots(_ e: UnsafeMutablePointer<Entry>, _ slots: UnsafePointer<SlotEntry>) -> (UnsafeRawPointer, Int) {
        // Short keys' stored top 16 bits are 0x01LL with the bit, 0x00LL without; long keys' 0xFFFF.
        if (e.pointee.high >> 48) & 0xFF00 == 0x0100 {
            return (UnsafeRawPointer(e) + ByteTable.rangeOffset, 1)
        }
        return (UnsafeRawPointer(slots + Int(e.pointee.range.start)), Int(e.pointee.range.count))
    }

    /// Long keys (rare) compare out of line, keeping the inlined probe small.
    @usableFromInline @inline(never)
    func arenaHolds(_ start: Int, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        let stored = arena.base + start
        var i = 0
        while i < count && stored[i] == bytes[i] { i &+= 1 }
        return i == count
    }

    /// The bucket of (tag, bytes), or nil.
    @inlinable @inline(__always)
    func entry(tag: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> UnsafeMutablePointer<Entry>? {
        // The kind test folds away where the tag's kind is a constant (every matcher call site).
        if ByteHash.isIncremental(tag: tag) {
            return entry(hash: ByteHash.incremental(tag: tag, bytes, count), tag: tag, bytes, count)
        }
        if count <= ByteTable.inlineLimit {
            // Packed once: the same two words are the hash's input and the bucket's key.
            let (low, high) = ByteTable.packInline(bytes, count)
            return entry(hash: ByteHash.packed(tag: tag, low, high), tag: tag, low: low, high: high)
        }
        return entry(hash: ByteHash.long(tag: tag, bytes, count), tag: tag, bytes, count)
    }

    @inlinable @inline(__always)
    func find(tag: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
        entry(tag: tag, bytes, count)?.pointee.value ?? -1
    }

    /// `find` for a key only an ASCII one may equal: -2 when some byte is not ASCII. Short keys
    /// are tested on the two words they are packed into for the probe anyway.
    @inlinable @inline(__always)
    func findASCII(tag: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
        if count <= ByteTable.inlineLimit && !ByteHash.isIncremental(tag: tag) {
            let (low, high) = ByteTable.packInline(bytes, count)
            if (low | high & 0xFFFF_FFFF_FFFF) & 0x8080_8080_8080_8080 != 0 { return -2 }
            return entry(hash: ByteHash.packed(tag: tag, low, high), tag: tag, low: low, high: high)?.pointee.value ?? -1
        }
        if !allASCII(bytes, count) { return -2 }
        return find(tag: tag, bytes, count)
    }

    /// The slot entries a hit on (tag, bytes) reads, with their count (0 when absent).
    @inlinable @inline(__always)
    func findSlots(tag: UInt32, _ bytes: UnsafePointer<UInt8>, _ count: Int, slots: UnsafePointer<SlotEntry>) -> (UnsafeRawPointer, Int) {
        guard let e = entry(tag: tag, bytes, count) else { return (UnsafeRawPointer(slots), 0) }
        return ByteTable.hitSlots(e, slots)
    }

    /// The bucket of a key of at most `inlineLimit` bytes, given as its packed words, or nil.
    @inlinable @inline(__always)
    func entry(hash: UInt64, tag: UInt32, low: UInt64, high: UInt64) -> UnsafeMutablePointer<Entry>? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = entries.base + slot
            let h = entry.pointee.high
            if h & ~ByteTable.oneSlotBit == high && entry.pointee.low == low && entry.pointee.tag == tag { return entry }
            if h == ByteTable.emptyMark { return nil }
            slot = (slot &+ 1) & mask
        }
    }

    func free() {
        entries.free(); arena.free()
    }
}

// MARK: - Number-keyed table

/// Open-addressing map from (path, exact Double) to an Int32 value. `-0.0` is stored as `0.0` since
/// the two compare equal.
@usableFromInline
struct NumberTable: Sendable {
    @usableFromInline let mask: Int
    @usableFromInline let paths: Frozen<Int32>
    @usableFromInline let bits: Frozen<UInt64>
    @usableFromInline let values: Frozen<Int32>

    @inlinable @inline(__always)
    static func hash(path: Int32, bits: UInt64) -> Int {
        var x = bits ^ (UInt64(UInt32(bitPattern: path)) &* 0x9E37_79B9_7F4A_7C15)
        x ^= x >> 29
        x &*= 0xbf58_476d_1ce4_e5b9
        x ^= x >> 32
        return Int(truncatingIfNeeded: x)
    }

    @inlinable @inline(__always)
    static func key(_ v: Double) -> UInt64 { v == 0 ? 0 : v.bitPattern }

    init(_ entries: [(path: Int32, value: Double, result: Int32)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        var p = [Int32](repeating: -1, count: capacity)
        var b = [UInt64](repeating: 0, count: capacity)
        var v = [Int32](repeating: -1, count: capacity)
        for entry in entries {
            let k = NumberTable.key(entry.value)
            var slot = NumberTable.hash(path: entry.path, bits: k) & mask
            while p[slot] >= 0 { slot = (slot + 1) & mask }
            p[slot] = entry.path
            b[slot] = k
            v[slot] = entry.result
        }
        paths = Frozen(p)
        bits = Frozen(b)
        values = Frozen(v)
    }

    @inlinable @inline(__always)
    func find(path: Int32, _ value: Double) -> Int32 {
        let k = NumberTable.key(value)
        var slot = NumberTable.hash(path: path, bits: k) & mask
        while true {
            let p = paths[slot]
            if p < 0 { return -1 }
            if p == path && bits[slot] == k { return values[slot] }
            slot = (slot &+ 1) & mask
        }
    }

    func free() { paths.free(); bits.free(); values.free() }
}
