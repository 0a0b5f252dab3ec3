import HeraldCore

// The journal's byte format: segment files of checksummed frames, one record per frame. This
// header and docs/STORAGE.md are the only descriptions; change both together and bump
// `JournalFormat.version` for any change a reader of the previous version could not parse.
//
// Segment file `NNNNNNNNNN.seg` (the segment id, 10 decimal digits), every integer little-endian:
//
//   header (28 bytes)
//     0  magic        8 bytes  "HRLDJRNL"
//     8  version      u16      1
//    10  flags        u16      0 (reserved)
//    12  segment id   u32      the same number as the file name
//    16  created at   i64      milliseconds since 1970
//    24  header CRC   u32      CRC-32C of bytes 0..<24
//   frames, back to back, from offset 28 to the end of the file
//     0  length       u32      payload byte count (not counting these 9 header bytes)
//     4  crc          u32      CRC-32C of kind + payload
//     8  kind         u8       0 padding (repair filler, no record), 1 message, 2 delete,
//                              3 visibility, 4 purge, 5 meta
//     9  payload      length bytes, by kind:
//
//   str   = u32 byte count + UTF-8 bytes          bytes = u32 count + bytes
//   opt X = u8 0 (absent) | u8 1 + X              bool  = u8 0 | 1
//   message     u64 entry, str messageID, str topic, opt str subject, i64 sentAtMillis,
//               u32 attribute count + per attribute sorted by name (UTF-8 byte order):
//                 str name, str dataType, u8 'S' + str value | u8 'B' + bytes value,
//               bytes body, opt str groupID, opt str deduplicationID,
//               u32 target count + per target: u32 queue, str subscription, bool raw,
//                 i64 visibleAtMillis, u32 receiveCount, i64 firstReceiveAtMillis
//   delete      u32 queue, u32 count + count × u64 entry
//   visibility  u32 queue, u32 count + count × (u64 entry, i64 visibleAtMillis, u32 receiveCount,
//               i64 firstReceiveAtMillis)
//   purge       u32 queue, u64 throughEntry
//   meta        str key, u64 revision, opt bytes value (absent: the key was deleted)
//
// A payload must be consumed exactly; trailing bytes are an error. A reader checks every count
// against the bytes left before it allocates, so garbage cannot make it allocate or crash.

/// Constants of the segment format (see the file header above).
public enum JournalFormat {
    public static let magic: [UInt8] = Array("HRLDJRNL".utf8)
    public static let version: UInt16 = 1
    public static let headerSize = 28
    public static let frameHeaderSize = 9

    /// Record kinds as stored in a frame.
    public enum Kind: UInt8, Sendable {
        case padding = 0, message = 1, delete = 2, visibility = 3, purge = 4, meta = 5
    }

    /// The 28-byte header of segment `id`.
    public static func header(segment id: UInt32, createdAtMillis: Int64) -> [UInt8] {
        var out = ByteWriter()
        out.bytes.append(contentsOf: magic)
        out.u16(version)
        out.u16(0)
        out.u32(id)
        out.i64(createdAtMillis)
        out.u32(CRC32C.checksum(out.bytes))
        return out.bytes
    }

    /// The segment id a header names, or why it is not a valid header.
    public static func parseHeader(_ bytes: ArraySlice<UInt8>) -> Result<UInt32, JournalDecodeError> {
        guard bytes.count >= headerSize else { return .failure(.init("incomplete segment header (\(bytes.count) bytes)", at: 0)) }
        var reader = ByteReader(bytes.prefix(headerSize))
        do throws(JournalDecodeError) {
            let head = Array(bytes.prefix(headerSize - 4))
            guard head.prefix(8).elementsEqual(magic) else { throw .init("bad magic (not a Herald journal segment)", at: 0) }
            try reader.skip(8)
            let version = try reader.u16()
            guard version == JournalFormat.version else { throw .init("unsupported format version \(version)", at: 8) }
            _ = try reader.u16()
            let id = try reader.u32()
            _ = try reader.i64()
            let crc = try reader.u32()
            guard crc == CRC32C.checksum(head) else { throw .init("segment header checksum mismatch", at: 24) }
            return .success(id)
        } catch {
            return .failure(error)
        }
    }
}

/// Why bytes did not decode: what was wrong and where (offset within the payload or header).
public struct JournalDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public var offset: Int
    public init(_ reason: String, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }
    public var description: String { "\(reason) (at byte \(offset))" }
}

/// Encodes and decodes `JournalRecord`s (format in this file's header). Pure; any thread.
public enum JournalRecordCodec {
    /// Appends one complete frame for `record` (header, CRC, kind, payload) to `out`.
    /// Returns the frame's size in bytes.
    @discardableResult
    public static func appendFrame(_ record: JournalRecord, to out: inout [UInt8]) -> Int {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: 8))
        var writer = ByteWriter(taking: &out)
        writer.u8(kind(of: record).rawValue)
        encodePayload(record, into: &writer)
        out = writer.bytes
        // Drop the writer's reference, or the stores below copy the whole buffer (copy-on-write):
        // quadratic in the records of one append, which stalled compaction's big appends.
        writer.bytes = []
        let length = out.count - start - JournalFormat.frameHeaderSize
        let crc = out.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[(start + 8)...])) }
        storeU32(UInt32(truncatingIfNeeded: length), in: &out, at: start)
        storeU32(crc, in: &out, at: start + 4)
        return out.count - start
    }

    /// The frame of one record as a new array.
    public static func frame(_ record: JournalRecord) -> [UInt8] {
        var out: [UInt8] = []
        appendFrame(record, to: &out)
        return out
    }

    /// A padding frame of exactly `size` bytes (`size >= 9`): repair writes it over dropped bytes.
    public static func paddingFrame(size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: max(size, JournalFormat.frameHeaderSize))
        out[8] = JournalFormat.Kind.padding.rawValue
        let crc = CRC32C.checksum(out[8...])
        storeU32(UInt32(out.count - JournalFormat.frameHeaderSize), in: &out, at: 0)
        storeU32(crc, in: &out, at: 4)
        return out
    }

    public static func kind(of record: JournalRecord) -> JournalFormat.Kind {
        switch record {
        case .message: return .message
        case .delete: return .delete
        case .visibility: return .visibility
        case .purge: return .purge
        case .meta: return .meta
        }
    }

    /// Decodes a payload of `kind` (raw byte from the frame). Never traps on bad input.
    public static func decode(kind rawKind: UInt8, payload: ArraySlice<UInt8>) throws(JournalDecodeError) -> JournalRecord {
        guard let kind = JournalFormat.Kind(rawValue: rawKind), kind != .padding else {
            throw JournalDecodeError("unknown record kind \(rawKind)", at: 0)
        }
        var r = ByteReader(payload)
        let record: JournalRecord
        switch kind {
        case .message: record = .message(try decodeMessage(&r))
        case .delete:
            let queue = try r.u32()
            let count = try r.count(elementSize: 8)
            var entries: [UInt64] = []
            entries.reserveCapacity(count)
            for _ in 0..<count { entries.append(try r.u64()) }
            record = .delete(queue: queue, entries: entries)
        case .visibility:
            let queue = try r.u32()
            let count = try r.count(elementSize: 28)
            var marks: [VisibilityMark] = []
            marks.reserveCapacity(count)
            for _ in 0..<count {
                marks.append(VisibilityMark(entry: try r.u64(), visibleAtMillis: try r.i64(), receiveCount: try r.u32(), firstReceiveAtMillis: try r.i64()))
            }
            record = .visibility(queue: queue, marks: marks)
        case .purge: record = .purge(queue: try r.u32(), throughEntry: try r.u64())
        case .meta:
            let key = try r.string()
            let revision = try r.u64()
            let value = try r.flag() ? try r.byteArray() : nil
            record = .meta(key: key, value: value, revision: revision)
        case .padding: throw JournalDecodeError("padding frame has no record", at: 0)
        }
        guard r.isAtEnd else { throw JournalDecodeError("\(r.remaining) trailing bytes after the record", at: r.position) }
        return record
    }

    /// Decodes one whole frame (header included), checking its length and CRC.
    public static func decodeFrame(_ bytes: ArraySlice<UInt8>) throws(JournalDecodeError) -> JournalRecord {
        guard bytes.count >= JournalFormat.frameHeaderSize else { throw JournalDecodeError("incomplete frame header", at: 0) }
        let base = bytes.startIndex
        let length = Int(loadU32(bytes, at: base))
        guard length == bytes.count - JournalFormat.frameHeaderSize else {
            throw JournalDecodeError("frame length \(length) does not match \(bytes.count - JournalFormat.frameHeaderSize) payload bytes", at: 0)
        }
        guard loadU32(bytes, at: base + 4) == CRC32C.checksum(bytes[(base + 8)...]) else { throw JournalDecodeError("frame checksum mismatch", at: 4) }
        return try decode(kind: bytes[base + 8], payload: bytes[(base + 9)...])
    }

    // MARK: - Payloads

    private static func encodePayload(_ record: JournalRecord, into w: inout ByteWriter) {
        switch record {
        case .message(let m):
            w.u64(m.entry)
            w.string(m.messageID)
            w.string(m.topic)
            w.optionalString(m.subject)
            w.i64(m.sentAtMillis)
            w.u32(UInt32(truncatingIfNeeded: m.attributes.count))
            for name in m.attributes.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                guard let value = m.attributes[name] else { continue }
                w.string(name)
                w.string(value.dataType)
                switch value.payload {
                case .string(let s): w.u8(UInt8(ascii: "S")); w.string(s)
                case .binary(let b): w.u8(UInt8(ascii: "B")); w.byteArray(b)
                }
            }
            w.byteArray(m.body)
            w.optionalString(m.groupID)
            w.optionalString(m.deduplicationID)
            w.u32(UInt32(truncatingIfNeeded: m.targets.count))
            for t in m.targets {
                w.u32(t.queue)
                w.string(t.subscription)
                w.u8(t.raw ? 1 : 0)
                w.i64(t.visibleAtMillis)
                w.u32(t.receiveCount)
                w.i64(t.firstReceiveAtMillis)
            }
        case .delete(let queue, let entries):
            w.u32(queue)
            w.u32(UInt32(truncatingIfNeeded: entries.count))
            for e in entries { w.u64(e) }
        case .visibility(let queue, let marks):
            w.u32(queue)
            w.u32(UInt32(truncatingIfNeeded: marks.count))
            for m in marks {
                w.u64(m.entry)
                w.i64(m.visibleAtMillis)
                w.u32(m.receiveCount)
                w.i64(m.firstReceiveAtMillis)
            }
        case .purge(let queue, let through):
            w.u32(queue)
            w.u64(through)
        case .meta(let key, let value, let revision):
            w.string(key)
            w.u64(revision)
            if let value { w.u8(1); w.byteArray(value) } else { w.u8(0) }
        }
    }

    private static func decodeMessage(_ r: inout ByteReader) throws(JournalDecodeError) -> StoredMessage {
        let entry = try r.u64()
        let messageID = try r.string()
        let topic = try r.string()
        let subject = try r.optionalString()
        let sentAt = try r.i64()
        let attributeCount = try r.count(elementSize: 13)
        var attributes: MessageAttributes = [:]
        attributes.reserveCapacity(attributeCount)
        for _ in 0..<attributeCount {
            let at = r.position
            let name = try r.string()
            let dataType = try r.string()
            let payload: MessageAttributeValue.Payload
            switch try r.u8() {
            case UInt8(ascii: "S"): payload = .string(try r.string())
            case UInt8(ascii: "B"): payload = .binary(try r.byteArray())
            case let other: throw JournalDecodeError("unknown attribute value kind \(other)", at: r.position - 1)
            }
            guard attributes.updateValue(MessageAttributeValue(dataType: dataType, payload: payload), forKey: name) == nil else {
                throw JournalDecodeError("duplicate attribute \(name)", at: at)
            }
        }
        let body = try r.byteArray()
        let groupID = try r.optionalString()
        let dedupID = try r.optionalString()
        let targetCount = try r.count(elementSize: 29)
        var targets: [StoredMessage.QueueTarget] = []
        targets.reserveCapacity(targetCount)
        for _ in 0..<targetCount {
            targets.append(StoredMessage.QueueTarget(
                queue: try r.u32(), subscription: try r.string(), raw: try r.flag(), visibleAtMillis: try r.i64(),
                receiveCount: try r.u32(), firstReceiveAtMillis: try r.i64()))
        }
        return StoredMessage(
            entry: entry, messageID: messageID, topic: topic, subject: subject, sentAtMillis: sentAt, attributes: attributes,
            body: body, groupID: groupID, deduplicationID: dedupID, targets: targets)
    }

    static func storeU32(_ value: UInt32, in out: inout [UInt8], at index: Int) {
        out[index] = UInt8(truncatingIfNeeded: value)
        out[index + 1] = UInt8(truncatingIfNeeded: value >> 8)
        out[index + 2] = UInt8(truncatingIfNeeded: value >> 16)
        out[index + 3] = UInt8(truncatingIfNeeded: value >> 24)
    }

    /// Little-endian u32 at `index` (the caller checked 4 bytes are there).
    static func loadU32(_ bytes: ArraySlice<UInt8>, at index: Int) -> UInt32 {
        UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
    }
}
