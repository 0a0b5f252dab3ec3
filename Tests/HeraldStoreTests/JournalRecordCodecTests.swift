import HeraldCore
import HeraldStore
import Testing

/// Records of every kind, with the awkward cases (unicode, binary attributes, empty strings, extremes).
enum SampleRecords {
    static func message(_ entry: UInt64, body: [UInt8]? = nil) -> JournalRecord {
        .message(StoredMessage(
            entry: entry, messageID: "m-\(entry)", topic: "orders", subject: entry % 2 == 0 ? "Sübject ✓" : nil,
            sentAtMillis: 1_700_000_000_000 + Int64(entry),
            attributes: [
                "store": .string("ünïcødé 🚀"), "price": .number("12.50"), "blob": .binary([0, 255, 7]),
                "tags": .stringArray(json: "[\"a\",\"b\"]"), "custom": MessageAttributeValue(dataType: "String.url", payload: .string("")),
            ],
            body: body ?? Array("body \(entry) with some padding to make frames differ".utf8),
            groupID: entry % 3 == 0 ? "group" : nil, deduplicationID: entry % 5 == 0 ? "dedup-\(entry)" : nil,
            targets: [
                .init(queue: 1, visibleAtMillis: 5),
                .init(queue: UInt32.max, subscription: "sub-ß", raw: false, visibleAtMillis: Int64.min, receiveCount: 3, firstReceiveAtMillis: Int64.max),
            ]))
    }

    static let everyKind: [JournalRecord] = [
        message(1),
        message(2, body: []),
        .message(StoredMessage(entry: 0, messageID: "", sentAtMillis: 0, body: [], targets: [])),
        .delete(queue: 3, entries: [1, 2, UInt64.max]),
        .delete(queue: 0, entries: []),
        .visibility(queue: 4, marks: [VisibilityMark(entry: 9, visibleAtMillis: -1, receiveCount: 2, firstReceiveAtMillis: 77)]),
        .purge(queue: 5, throughEntry: 123),
        .meta(key: "topics/orders", value: Array("{\"x\":1}".utf8), revision: 42),
        .meta(key: "topics/gone", value: nil, revision: 43),
        .meta(key: "empty", value: [], revision: 44),
    ]
}

@Suite struct JournalRecordCodecTests {
    @Test(arguments: SampleRecords.everyKind)
    func roundTrips(_ record: JournalRecord) throws {
        let frame = JournalRecordCodec.frame(record)
        #expect(try JournalRecordCodec.decodeFrame(frame[...]) == record)
        #expect(try JournalRecordCodec.decode(kind: frame[8], payload: frame[9...]) == record)
    }

    @Test func attributesAreEncodedSortedSoEqualRecordsHaveEqualBytes() {
        var a = [String: MessageAttributeValue]()
        var b = [String: MessageAttributeValue]()
        for i in 0..<20 { a["k\(i)"] = .string("\(i)") }
        for i in (0..<20).reversed() { b["k\(i)"] = .string("\(i)") }
        let ma = JournalRecord.message(StoredMessage(entry: 1, messageID: "x", sentAtMillis: 0, attributes: a, body: [], targets: []))
        let mb = JournalRecord.message(StoredMessage(entry: 1, messageID: "x", sentAtMillis: 0, attributes: b, body: [], targets: []))
        #expect(JournalRecordCodec.frame(ma) == JournalRecordCodec.frame(mb))
    }

    @Test func everyTruncationThrows() {
        for record in SampleRecords.everyKind {
            let frame = JournalRecordCodec.frame(record)
            for cut in 0..<frame.count {
                #expect(throws: JournalDecodeError.self) { try JournalRecordCodec.decodeFrame(frame[..<cut]) }
                if cut > 9 {
                    // Payload cut short with a matching kind: the payload decoder itself must refuse it.
                    #expect(throws: JournalDecodeError.self) { try JournalRecordCodec.decode(kind: frame[8], payload: frame[9..<cut]) }
                }
            }
        }
    }

    @Test func everyBitFlipIsCaughtByTheChecksum() {
        let frame = JournalRecordCodec.frame(SampleRecords.message(7))
        for index in 0..<frame.count {
            var damaged = frame
            damaged[index] ^= 0x10
            #expect(throws: JournalDecodeError.self) { try JournalRecordCodec.decodeFrame(damaged[...]) }
        }
    }

    @Test func garbagePayloadsNeverCrash() {
        var rng = SplitMix64(seed: 99)
        var decoded = 0
        for _ in 0..<5_000 {
            let count = Int(rng.next() % 64)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            for kind: UInt8 in 0...6 {
                if (try? JournalRecordCodec.decode(kind: kind, payload: bytes[...])) != nil { decoded += 1 }
            }
        }
        // Huge counts and lengths are refused before allocating; short random bytes rarely parse.
        #expect(decoded < 5_000)
        let hugeCount: [UInt8] = [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: JournalDecodeError.self) { try JournalRecordCodec.decode(kind: 2, payload: hugeCount[...]) }
        let badUTF8: [UInt8] = [2, 0, 0, 0, 0xC3, 0x28, 1, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(throws: JournalDecodeError.self) { try JournalRecordCodec.decode(kind: 5, payload: badUTF8[...]) }
        let trailing = JournalRecordCodec.frame(.purge(queue: 1, throughEntry: 2))[9...] + [0]
        #expect(throws: JournalDecodeError.self) { try JournalRecordCodec.decode(kind: 4, payload: trailing) }
    }

    @Test func segmentHeaderRoundTripsAndRejectsDamage() {
        let header = JournalFormat.header(segment: 17, createdAtMillis: 1234)
        #expect(header.count == JournalFormat.headerSize)
        #expect((try? JournalFormat.parseHeader(header[...]).get()) == 17)
        for index in 0..<header.count {
            var damaged = header
            damaged[index] ^= 1
            #expect((try? JournalFormat.parseHeader(damaged[...]).get()) == nil)
        }
        #expect((try? JournalFormat.parseHeader(header[..<20]).get()) == nil)
    }

    @Test func paddingFrameVerifiesButIsNoRecord() {
        let pad = JournalRecordCodec.paddingFrame(size: 40)
        #expect(pad.count == 40)
        #expect(throws: JournalDecodeError.self) { try JournalRecordCodec.decodeFrame(pad[...]) }
        #expect(pad[8] == JournalFormat.Kind.padding.rawValue)
    }
}
