import HeraldCore
import HeraldStore
import Testing

/// The index decode start-up uses must keep what a full decode keeps (for the fields it has) and
/// accept and refuse exactly the payloads a full decode accepts and refuses.
@Suite struct IndexRecordTests {
    @Test(arguments: SampleRecords.everyKind)
    func indexDecodeMatchesTheFullDecode(_ record: JournalRecord) throws {
        let frame = JournalRecordCodec.frame(record)
        let index = try JournalRecordCodec.decodeIndex(kind: frame[8], payload: frame[9...])
        #expect(index == IndexRecord(record))
        if case .message(let message) = record, case .message(let light) = index {
            #expect(light.bodySize == UInt32(message.body.count))
            #expect(light.targets.map(\.queue) == message.targets.map(\.queue))
        }
    }

    @Test func truncationsAreRefusedLikeTheFullDecode() {
        for record in SampleRecords.everyKind {
            let frame = JournalRecordCodec.frame(record)
            for cut in 9..<frame.count {
                #expect(throws: JournalDecodeError.self) { try JournalRecordCodec.decodeIndex(kind: frame[8], payload: frame[9..<cut]) }
            }
        }
    }

    @Test func damagedMessagePayloadsAreAcceptedOrRefusedLikeTheFullDecode() {
        let frame = JournalRecordCodec.frame(SampleRecords.message(15))
        let payload = Array(frame[9...])
        var refused = 0
        for index in payload.indices {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var damaged = payload
                damaged[index] ^= flip
                let full = try? JournalRecordCodec.decode(kind: 1, payload: damaged[...])
                let light = try? JournalRecordCodec.decodeIndex(kind: 1, payload: damaged[...])
                #expect((full == nil) == (light == nil), "byte \(index) ^ \(flip)")
                if let full, let light { #expect(light == IndexRecord(full)) }
                if full == nil { refused += 1 }
            }
        }
        #expect(refused > 0)
    }

    @Test func duplicateAttributeNamesAreRefused() {
        // Two attributes named "a": built by hand, the encoder cannot produce it.
        var bytes: [UInt8] = []
        func u32(_ v: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) } }
        func str(_ s: String) { u32(UInt32(s.utf8.count)); bytes += Array(s.utf8) }
        bytes += [UInt8](repeating: 0, count: 8)  // entry
        str("id"); str("topic"); bytes.append(0)  // no subject
        bytes += [UInt8](repeating: 0, count: 8)  // sentAt
        u32(2)
        for _ in 0..<2 { str("a"); str("String"); bytes.append(UInt8(ascii: "S")); str("v") }
        u32(0); bytes.append(0); bytes.append(0); u32(0)  // body, group, dedup, targets
        #expect(throws: JournalDecodeError.self) { try JournalRecordCodec.decode(kind: 1, payload: bytes[...]) }
        #expect(throws: JournalDecodeError.self) { try JournalRecordCodec.decodeIndex(kind: 1, payload: bytes[...]) }
    }
}
