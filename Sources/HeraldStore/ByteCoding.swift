import HeraldCore

/// Little-endian writing for the journal codec (format: JournalRecordCodec.swift's header).
struct ByteWriter {
    var bytes: [UInt8]

    init() { bytes = [] }

    /// Continues `buffer` without copying it (it is left empty until the writer hands it back).
    init(taking buffer: inout [UInt8]) {
        bytes = buffer
        buffer = []
    }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            u32(UInt32(truncatingIfNeeded: utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func optionalString(_ s: String?) {
        if let s { u8(1); string(s) } else { u8(0) }
    }

    mutating func byteArray(_ b: [UInt8]) {
        u32(UInt32(truncatingIfNeeded: b.count))
        bytes.append(contentsOf: b)
    }
}

/// Bounds-checked little-endian reading of untrusted bytes: every read checks what is left and
/// throws `JournalDecodeError` (offset relative to the start of the slice) instead of trapping.
struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        index = bytes.startIndex
    }

    var position: Int { index - bytes.startIndex }
    var remaining: Int { bytes.endIndex - index }
    var isAtEnd: Bool { index == bytes.endIndex }

    private mutating func take(_ n: Int) throws(JournalDecodeError) -> ArraySlice<UInt8> {
        guard n >= 0, remaining >= n else { throw JournalDecodeError("needs \(n) bytes, \(remaining) left", at: position) }
        defer { index += n }
        return bytes[index..<(index + n)]
    }

    mutating func skip(_ n: Int) throws(JournalDecodeError) { _ = try take(n) }

    private mutating func fixed(_ n: Int) throws(JournalDecodeError) -> UInt64 {
        let slice = try take(n)
        var v: UInt64 = 0
        for (shift, byte) in slice.enumerated() { v |= UInt64(byte) << (8 * UInt64(shift)) }
        return v
    }

    mutating func u8() throws(JournalDecodeError) -> UInt8 { UInt8(truncatingIfNeeded: try fixed(1)) }
    mutating func u16() throws(JournalDecodeError) -> UInt16 { UInt16(truncatingIfNeeded: try fixed(2)) }
    mutating func u32() throws(JournalDecodeError) -> UInt32 { UInt32(truncatingIfNeeded: try fixed(4)) }
    mutating func u64() throws(JournalDecodeError) -> UInt64 { try fixed(8) }
    mutating func i64() throws(JournalDecodeError) -> Int64 { Int64(bitPattern: try fixed(8)) }

    mutating func flag() throws(JournalDecodeError) -> Bool {
        let at = position
        switch try u8() {
        case 0: return false
        case 1: return true
        case let other: throw JournalDecodeError("flag byte \(other) is neither 0 nor 1", at: at)
        }
    }

    /// A u32 element count, checked against the bytes left (each element needs at least `elementSize`).
    mutating func count(elementSize: Int) throws(JournalDecodeError) -> Int {
        let at = position
        let n = Int(try u32())
        guard n <= remaining / max(elementSize, 1) else {
            throw JournalDecodeError("count \(n) cannot fit in the \(remaining) bytes left", at: at)
        }
        return n
    }

    mutating func byteArray() throws(JournalDecodeError) -> [UInt8] {
        let n = Int(try u32())
        return Array(try take(n))
    }

    mutating func string() throws(JournalDecodeError) -> String {
        let at = position
        let n = Int(try u32())
        let raw = try take(n)
        guard let s = String(validating: raw, as: UTF8.self) else { throw JournalDecodeError("invalid UTF-8 in a string", at: at) }
        return s
    }

    /// A string's bytes, checked as `string()` checks them, without making a String.
    mutating func stringBytes() throws(JournalDecodeError) -> ArraySlice<UInt8> {
        let at = position
        let n = Int(try u32())
        let raw = try take(n)
        let valid = raw.withUnsafeBufferPointer { UTF8Validation.firstProblem(in: $0) == nil }
        guard valid else { throw JournalDecodeError("invalid UTF-8 in a string", at: at) }
        return raw
    }

    mutating func skipString() throws(JournalDecodeError) { _ = try stringBytes() }

    /// Skips a `bytes` field; returns its byte count.
    mutating func skipByteArray() throws(JournalDecodeError) -> Int {
        let n = Int(try u32())
        try skip(n)
        return n
    }

    mutating func optionalString() throws(JournalDecodeError) -> String? {
        try flag() ? try string() : nil
    }
}
