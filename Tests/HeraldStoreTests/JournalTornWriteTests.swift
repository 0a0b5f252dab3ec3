import HeraldStore
import Testing

/// Damage at every byte: a torn tail is truncated (records before it kept); damage with good
/// records after it is corruption (refused, or dropped with `repair`).
@Suite struct JournalTornWriteTests {
    static let segment = "0000000001.seg"

    /// A closed journal of `count` messages: its segment's bytes and each record's (offset, size).
    static func writtenJournal(count: Int) throws -> (bytes: [UInt8], frames: [(offset: Int, size: Int)], records: [JournalRecord]) {
        let dir = TempDirectory()
        defer { dir.remove() }
        let journal = try LocalJournal(directory: dir.path, fsync: .never)
        let records = (1...count).map { SampleRecords.message(UInt64($0)) }
        var offsets: [Int] = []
        for record in records { offsets += try appendAndWait(journal, [record]).get().map { Int($0.offset) } }
        journal.close()
        let bytes = dir.bytes(of: segment)
        let ends = offsets.dropFirst() + [bytes.count]
        return (bytes, zip(offsets, ends).map { ($0, $1 - $0) }, records)
    }

    @Test func truncationAtEveryByteOfTheLastRecordsKeepsWhatPrecedes() throws {
        let (bytes, frames, records) = try Self.writtenJournal(count: 8)
        let dir = TempDirectory()
        defer { dir.remove() }
        for cut in frames[frames.count - 2].offset...bytes.count {
            dir.write(Array(bytes[..<cut]), to: Self.segment)
            let journal = try LocalJournal(directory: dir.path, fsync: .never)
            let kept = frames.filter { $0.offset + $0.size <= cut }.count
            #expect(try replayAll(journal).map(\.0) == Array(records.prefix(kept)), "cut at \(cut)")
            let boundary = frames.contains { $0.offset == cut } || cut == bytes.count
            if boundary {
                #expect(journal.recovery.truncatedTail == nil)
            } else {
                #expect(journal.recovery.truncatedTail?.offset == UInt64(frames[kept].offset), "cut at \(cut)")
                #expect(journal.recovery.droppedBytes == Int64(cut - frames[kept].offset))
            }
            // The journal goes on after the truncated tail.
            _ = try appendAndWait(journal, [.purge(queue: 9, throughEntry: UInt64(cut))]).get()
            journal.close()
            let again = try LocalJournal(directory: dir.path, fsync: .never)
            #expect(try replayAll(again).map(\.0) == Array(records.prefix(kept)) + [.purge(queue: 9, throughEntry: UInt64(cut))])
            #expect(again.recovery.truncatedTail == nil)
            again.close()
        }
    }

    @Test func aBitFlipInTheLastRecordDropsOnlyIt() throws {
        let (bytes, frames, records) = try Self.writtenJournal(count: 5)
        let dir = TempDirectory()
        defer { dir.remove() }
        let last = frames[frames.count - 1]
        for index in last.offset..<(last.offset + last.size) {
            var damaged = bytes
            damaged[index] ^= 0x04
            dir.write(damaged, to: Self.segment)
            let journal = try LocalJournal(directory: dir.path, fsync: .never)
            #expect(try replayAll(journal).map(\.0) == Array(records.dropLast()), "flip at \(index)")
            #expect(journal.recovery.truncatedTail?.offset == UInt64(last.offset))
            journal.close()
        }
    }

    @Test func aBitFlipInAMiddleRecordIsCorruptionUnlessRepairing() throws {
        let (bytes, frames, records) = try Self.writtenJournal(count: 5)
        let dir = TempDirectory()
        defer { dir.remove() }
        let middle = frames[2]
        for index in middle.offset..<(middle.offset + middle.size) {
            var damaged = bytes
            damaged[index] ^= 0x80
            dir.write(damaged, to: Self.segment)
            #expect(throws: StoreError.self) { try LocalJournal(directory: dir.path, fsync: .never) }
            do {
                _ = try LocalJournal(directory: dir.path, fsync: .never)
            } catch let error {
                #expect(error == .corrupt(file: Self.segment, offset: UInt64(middle.offset), reason: reasonOf(error)), "flip at \(index)")
            }
            let repaired = try LocalJournal(directory: dir.path, fsync: .never, repair: true)
            var expected = records
            expected.remove(at: 2)
            #expect(try replayAll(repaired).map(\.0) == expected, "flip at \(index)")
            #expect(repaired.recovery.repaired.map(\.offset) == [UInt64(middle.offset)])
            #expect(repaired.recovery.repaired.first?.bytes == UInt64(middle.size))
            repaired.close()
            // The repair is on disk: a plain open now succeeds with the same records.
            let plain = try LocalJournal(directory: dir.path, fsync: .never)
            #expect(try replayAll(plain).map(\.0) == expected)
            plain.close()
        }
    }

    @Test func damageAtTheEndOfANonLastSegmentIsCorruption() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let journal = try LocalJournal(directory: dir.path, fsync: .never, segmentSize: 1024)
        for i in 1...12 { _ = try appendAndWait(journal, [SampleRecords.message(UInt64(i))]).get() }
        journal.close()
        let files = dir.segmentFiles
        #expect(files.count >= 2)
        let first = dir.bytes(of: files[0])
        dir.write(Array(first.dropLast(5)), to: files[0])
        #expect(throws: StoreError.self) { try LocalJournal(directory: dir.path, fsync: .never) }
        let repaired = try LocalJournal(directory: dir.path, fsync: .never, repair: true)
        #expect(repaired.recovery.repaired.first?.file == files[0])
        #expect(try replayAll(repaired).count == 11)
        repaired.close()
    }

    @Test func aTornSegmentHeaderOfTheLastSegmentIsRewritten() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        dir.write(Array(JournalFormat.header(segment: 1, createdAtMillis: 5).prefix(11)), to: Self.segment)
        let journal = try LocalJournal(directory: dir.path, fsync: .never)
        #expect(journal.recovery.truncatedTail?.offset == 0)
        _ = try appendAndWait(journal, [SampleRecords.message(1)]).get()
        journal.close()
        let reopened = try LocalJournal(directory: dir.path, fsync: .never)
        #expect(try replayAll(reopened).map(\.0) == [SampleRecords.message(1)])
        reopened.close()
        dir.write(Array("not a journal at all, longer than a header".utf8), to: Self.segment)
        #expect(throws: StoreError.self) { try LocalJournal(directory: dir.path, fsync: .never) }
    }
}

private func reasonOf(_ error: StoreError) -> String {
    if case .corrupt(_, _, let reason) = error { return reason }
    return ""
}
