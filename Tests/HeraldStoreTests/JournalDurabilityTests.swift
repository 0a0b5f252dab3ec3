import Foundation
import Synchronization
import HeraldStore
import HeraldTestSupport
import Testing

@Suite struct JournalDurabilityTests {
    @Test func closeAndReopenReplaysEverything() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let journal = try LocalJournal(directory: dir.path + "/nested/data", fsync: .always)
        #expect(journal.ackMeaning == .localFsync)
        let records = (1...20).map { SampleRecords.message(UInt64($0)) }
        var positions: [LogPosition] = []
        for record in records { positions += try appendAndWait(journal, [record]).get() }
        journal.close()
        #expect(throws: StoreError.closed) { try journal.read(positions[0]) }

        let reopened = try LocalJournal(directory: dir.path + "/nested/data", fsync: .always)
        defer { reopened.close() }
        #expect(reopened.recovery.records == 20 && reopened.recovery.messages == 20)
        #expect(reopened.recovery.truncatedTail == nil && reopened.recovery.droppedBytes == 0)
        #expect(reopened.recovery.description.contains("20 records"))
        let replayed = try replayAll(reopened)
        #expect(replayed.map(\.0) == records)
        #expect(replayed.map(\.1) == positions)
    }

    @Test func aCopyOfARunningJournalIsACrashImage() throws {
        let dir = TempDirectory(), copy = TempDirectory()
        defer { dir.remove(); copy.remove() }
        let journal = try LocalJournal(directory: dir.path, fsync: .always)
        let records = (1...10).map { SampleRecords.message(UInt64($0)) }
        _ = try appendAndWait(journal, records).get()
        // Files as they are now, without close: what a kill -9 leaves.
        for file in dir.segmentFiles { copy.write(dir.bytes(of: file), to: file) }
        let recovered = try LocalJournal(directory: copy.path, fsync: .never)
        #expect(try replayAll(recovered).map(\.0) == records)
        recovered.close()
        journal.close()
    }

    @Test func droppingWithoutCloseStopsCleanlyAndReopens() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        do {
            let journal = try LocalJournal(directory: dir.path, fsync: .interval(.milliseconds(5)))
            #expect(journal.ackMeaning == .localWrite)
            _ = try appendAndWait(journal, [SampleRecords.message(1)]).get()
        }
        let reopened = try LocalJournal(directory: dir.path, fsync: .never)
        defer { reopened.close() }
        #expect(try replayAll(reopened).map(\.0) == [SampleRecords.message(1)])
    }

    @Test func aCallLargerThanASegmentIsRefused() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let journal = try LocalJournal(directory: dir.path, fsync: .never, segmentSize: 1024)
        defer { journal.close() }
        let result = appendAndWait(journal, [SampleRecords.message(1, body: [UInt8](repeating: 7, count: 2000))])
        guard case .failure(.tooLarge(let size)) = result else { Issue.record("expected tooLarge, got \(result)"); return }
        #expect(size > 2000)
        #expect(throws: StoreError.self) { try LocalJournal(directory: dir.path + "/x", fsync: .never, segmentSize: 10) }
    }

    @Test func intervalPolicySyncsOnItsTimer() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let files = FaultyFileSystem()
        let journal = try LocalJournal(directory: dir.path, fsync: .interval(.milliseconds(20)), files: files)
        defer { journal.close() }
        let before = files.settings.withLock { $0.fdatasyncs }
        _ = try appendAndWait(journal, [SampleRecords.message(1)]).get()
        #expect(waitUntil { files.settings.withLock { $0.fdatasyncs } > before })
    }
}

extension JournalDurabilityTests {
    /// Under `.always`, `appendUnsynced` is written without a sync of its own; the next synced
    /// append's sync covers it, and a lone one is synced by the writer within about a second. Log
    /// order is kept either way.
    @Test func unsyncedAppendsRideOnTheNextSync() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let files = FaultyFileSystem()
        let journal = try LocalJournal(directory: dir.path, fsync: .always, files: files)
        let syncs = { files.settings.withLock { $0.fdatasyncs } }
        _ = try appendAndWait(journal, [SampleRecords.message(1)]).get()
        let afterSynced = syncs()
        let unsynced = appendUnsyncedAndWait(journal, [SampleRecords.message(2)])
        #expect((try? unsynced.get())?.count == 1)
        #expect(syncs() == afterSynced, "an unsynced append was synced on its own")
        _ = try appendAndWait(journal, [SampleRecords.message(3)]).get()
        #expect(syncs() == afterSynced + 1)
        _ = appendUnsyncedAndWait(journal, [SampleRecords.message(4)])
        let lone = syncs()
        #expect(waitUntil(.seconds(5)) { syncs() > lone }, "a lone unsynced append was never synced")
        journal.close()
        let reopened = try LocalJournal(directory: dir.path, fsync: .never)
        defer { reopened.close() }
        #expect(try replayAll(reopened).map(\.0) == (1...4).map { SampleRecords.message(UInt64($0)) })
    }

    func appendUnsyncedAndWait(_ journal: LocalJournal, _ records: [JournalRecord]) -> Result<[LogPosition], StoreError> {
        let box = Mutex<Result<[LogPosition], StoreError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        journal.appendUnsynced(records, on: DispatchQueue.global()) { result in
            box.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return box.withLock { $0 } ?? .failure(.closed)
    }
}

extension JournalDurabilityTests {
    /// A record read right after it was written comes from the writer's recent passes; one
    /// written more than their capacity ago comes from the file. Both are the record written.
    @Test func readsBackFromRecentPassesAndFromTheFile() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let journal = try LocalJournal(directory: dir.path, fsync: .never)
        defer { journal.close() }
        let body = [UInt8](repeating: 0x5A, count: 64 << 10)
        var written: [(JournalRecord, LogPosition)] = []
        for index in 1...80 {  // 80 × 64 KiB: past the 4 MiB of remembered passes
            let record = SampleRecords.message(UInt64(index), body: body + [UInt8(index)])
            written.append((record, try #require(try appendAndWait(journal, [record]).get().first)))
        }
        for (record, position) in [written[0], written[40], written[79]] {
            #expect(try journal.read(position) == record)
        }
    }
}
