import HeraldStore
import HeraldTestSupport
import Testing

/// Segments go when nothing in them is live, oldest first; meta records are carried by the journal.
@Suite struct JournalReclamationTests {
    /// A journal with small segments, one meta key in the first segment and `count` messages.
    static func filled(_ dir: TempDirectory, count: Int) throws -> (LocalJournal, [LogPosition]) {
        let journal = try LocalJournal(directory: dir.path, fsync: .always, segmentSize: 1024)
        _ = try putAndWait(journal, "topics/kept", Array("value".utf8), .absent).get()
        var positions: [LogPosition] = []
        for i in 1...count { positions += try appendAndWait(journal, [SampleRecords.message(UInt64(i))]).get() }
        return (journal, positions)
    }

    @Test func releasedSegmentsAreRemovedOldestFirstAndMetaSurvives() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let (journal, positions) = try Self.filled(dir, count: 16)
        let segments = Set(positions.map(\.segment)).sorted()
        #expect(segments.count >= 4)
        #expect(dir.segmentFiles.count == segments.count)

        // Everything in the second segment released, the first still live: nothing may go.
        for p in positions where p.segment == segments[1] { journal.release(p) }
        _ = try appendAndWait(journal, [.purge(queue: 1, throughEntry: 1)]).get()
        #expect(dir.segmentFiles.count == segments.count)

        // Now the first: both go (its meta record is carried forward first).
        for p in positions where p.segment == segments[0] { journal.release(p) }
        #expect(waitUntil { dir.segmentFiles.count == segments.count - 2 })
        #expect(dir.segmentFiles.first == String(format: "%010u.seg", segments[2].value))
        #expect(journal.stats.metaCarried == 1)
        #expect(journal.snapshot(prefix: "topics/").map(\.key) == ["topics/kept"])
        let survivor = positions.first { $0.segment == segments[2] }
        if let survivor { #expect(try journal.read(survivor) == SampleRecords.message(UInt64((positions.firstIndex(of: survivor) ?? 0) + 1))) }
        journal.close()

        let reopened = try LocalJournal(directory: dir.path, fsync: .always, segmentSize: 1024)
        defer { reopened.close() }
        #expect(reopened.snapshot(prefix: "topics/").map(\.value) == [Array("value".utf8)])
        let replayed = try replayAll(reopened)
        #expect(!replayed.contains { $0.1.segment <= segments[1] })
        #expect(replayed.filter { if case .message = $0.0 { return true } else { return false } }.count == positions.filter { $0.segment > segments[1] }.count)
    }

    @Test func compactionCandidatesAreMostlyDeadOldSegments() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let (journal, positions) = try Self.filled(dir, count: 12)
        defer { journal.close() }
        let segments = Set(positions.map(\.segment)).sorted()
        #expect(journal.compactionCandidates().isEmpty)
        let inSecond = positions.filter { $0.segment == segments[1] }
        #expect(inSecond.count >= 2)
        for p in inSecond.dropFirst() { journal.release(p) }
        #expect(journal.compactionCandidates() == [segments[1]])
        // The active segment is never a candidate, however dead.
        for p in positions where p.segment == segments.last { journal.release(p) }
        #expect(!journal.compactionCandidates().contains(segments[segments.count - 1]))
    }
}
