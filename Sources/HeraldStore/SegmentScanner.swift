/// Walks the frames of one segment's bytes (format: JournalRecordCodec.swift's header) and finds
/// the damaged ranges. Pure; used by recovery (which decides what a damage means: a torn tail to
/// truncate, or corruption to refuse or repair) and by replay (which skips what recovery allowed).
struct SegmentScanner {
    /// Bytes that are not a verifying frame, from `offset` up to the next frame that verifies
    /// (or the end: `atEnd`).
    struct Damage: Equatable {
        var offset: Int
        var length: Int
        var reason: String
        var atEnd: Bool
    }

    let bytes: [UInt8]

    /// Visits every verifying frame from `start` in order (padding frames included, with a nil
    /// record), `.message` records in index form (`JournalRecordCodec.decodeIndex`: what verifies
    /// is the same), and returns the damaged ranges between them.
    func scan(from start: Int, _ visit: (_ offset: Int, _ size: Int, _ record: IndexRecord?) throws(StoreError) -> Void) throws(StoreError) -> [Damage] {
        var damages: [Damage] = []
        var offset = start
        while offset < bytes.count {
            switch verify(at: offset) {
            case .success(let (size, record)):
                try visit(offset, size, record)
                offset += size
            case .failure(let error):
                var next = offset + 1
                while next < bytes.count, case .failure = verify(at: next) { next += 1 }
                damages.append(Damage(offset: offset, length: next - offset, reason: error.reason, atEnd: next >= bytes.count))
                offset = next
            }
        }
        return damages
    }

    /// The frame at `offset`, if it is complete, its checksum holds and its payload decodes.
    func verify(at offset: Int) -> Result<(Int, IndexRecord?), JournalDecodeError> {
        let left = bytes.count - offset
        guard left >= JournalFormat.frameHeaderSize else { return .failure(.init("incomplete frame header (\(left) bytes)", at: offset)) }
        let all = bytes[...]
        let length = Int(JournalRecordCodec.loadU32(all, at: offset))
        guard length <= left - JournalFormat.frameHeaderSize else {
            return .failure(.init("incomplete frame (\(length) payload bytes announced, \(left - JournalFormat.frameHeaderSize) present)", at: offset))
        }
        let end = offset + JournalFormat.frameHeaderSize + length
        let crc = bytes.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[(offset + 8)..<end])) }
        guard crc == JournalRecordCodec.loadU32(all, at: offset + 4) else { return .failure(.init("frame checksum mismatch", at: offset)) }
        let kind = bytes[offset + 8]
        if kind == JournalFormat.Kind.padding.rawValue { return .success((end - offset, nil)) }
        do {
            let record = try JournalRecordCodec.decodeIndex(kind: kind, payload: bytes[(offset + 9)..<end])
            return .success((end - offset, record))
        } catch {
            return .failure(.init("record does not decode: \(error)", at: offset))
        }
    }
}
