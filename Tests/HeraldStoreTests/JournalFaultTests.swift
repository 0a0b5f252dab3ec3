import Dispatch
import HeraldStore
import Synchronization
import Testing

/// A full disk and failing fdatasync, injected by `FaultyFileSystem`.
@Suite struct JournalFaultTests {
    @Test(arguments: [false, true])
    func diskFullFailsTheAppendAndLaterAppendsSucceed(truncateFails: Bool) throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let files = FaultyFileSystem()
        let journal = try LocalJournal(directory: dir.path, fsync: .always, files: files)
        let a = SampleRecords.message(1), b = SampleRecords.message(2, body: [UInt8](repeating: 9, count: 600)), c = SampleRecords.purge
        let positionA = try appendAndWait(journal, [a]).get()
        files.settings.withLock {
            $0.writeBudget = 100  // part of b's frame reaches the file
            $0.failTruncate = truncateFails
        }
        let failed = appendAndWait(journal, [b, .delete(queue: 1, entries: [2])])
        guard case .failure(.diskFull) = failed else { Issue.record("expected diskFull, got \(failed)"); return }
        #expect(try journal.read(positionA[0]) == a, "reads keep working")
        files.settings.withLock {
            $0.writeBudget = nil
            $0.failTruncate = false
        }
        let positionC = try appendAndWait(journal, [c]).get()
        #expect(try journal.read(positionC[0]) == c)
        journal.close()

        let reopened = try LocalJournal(directory: dir.path, fsync: .always)
        defer { reopened.close() }
        #expect(try replayAll(reopened).map(\.0) == [a, c], "the failed append never replays")
        #expect(reopened.recovery.repaired.isEmpty)
        #expect(reopened.recovery.truncatedTail == nil, "the failed pass's bytes were truncated at once, not left for recovery")
    }

    @Test func failedFdatasyncFailsThePassAndNothingOfItReplays() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let files = FaultyFileSystem()
        let journal = try LocalJournal(directory: dir.path, fsync: .always, files: files)
        files.settings.withLock { $0.failingSyncs = 1 }
        // Both frames reach the file before the fdatasync fails: they must not survive it.
        let failed = appendAndWait(journal, [SampleRecords.message(1), SampleRecords.message(2)])
        guard case .failure(.io(let text)) = failed else { Issue.record("expected io, got \(failed)"); return }
        #expect(text.contains("fdatasync"))
        let metaFailed = putAndWait(journal, "k", [1], nil)
        #expect((try? metaFailed.get()) != nil, "the next pass succeeds")
        _ = try appendAndWait(journal, [SampleRecords.message(3)]).get()
        #expect(journal.stats.failedPasses == 1)
        journal.close()
        let reopened = try LocalJournal(directory: dir.path, fsync: .always)
        defer { reopened.close() }
        let replayed = try replayAll(reopened).map(\.0)
        #expect(replayed.count == 2)
        #expect(!replayed.contains(SampleRecords.message(1)) && !replayed.contains(SampleRecords.message(2)))
        #expect(reopened.recovery.truncatedTail == nil, "the failed pass was truncated away at once")
        #expect(reopened.snapshot(prefix: "k").map(\.value) == [[1]])
    }

    @Test func aFailedMetaPutIsNotApplied() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let files = FaultyFileSystem()
        let journal = try LocalJournal(directory: dir.path, fsync: .always, files: files)
        defer { journal.close() }
        let first = try putAndWait(journal, "k", [1], .absent).get()
        files.settings.withLock { $0.writeBudget = 0 }
        guard case .failure(.diskFull) = putAndWait(journal, "k", [2], .at(first)) else { Issue.record("expected diskFull"); return }
        #expect(journal.snapshot(prefix: "k").map(\.value) == [[1]])
        files.settings.withLock { $0.writeBudget = nil }
        #expect((try? putAndWait(journal, "k", [3], .at(first)).get()) != nil, "the failed put did not move the revision")
    }

    @Test func groupCommitCoversManyAppendsPerFdatasync() throws {
        let dir = TempDirectory()
        defer { dir.remove() }
        let files = FaultyFileSystem()
        files.settings.withLock { $0.syncDelay = .milliseconds(2) }
        let journal = try LocalJournal(directory: dir.path, fsync: .always, files: files)
        defer { journal.close() }
        let syncsBefore = files.settings.withLock { $0.fdatasyncs }
        let threads = 8, perThread = 100
        let group = DispatchGroup()
        let succeeded = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for i in 0..<perThread {
                group.enter()
                journal.append([.purge(queue: UInt32(thread), throughEntry: UInt64(i))], on: testQueue) { result in
                    if case .success = result { succeeded.withLock { $0 += 1 } }
                    group.leave()
                }
            }
        }
        group.wait()
        let syncs = files.settings.withLock { $0.fdatasyncs } - syncsBefore
        #expect(succeeded.withLock { $0 } == threads * perThread)
        #expect(syncs >= 1)
        #expect(syncs * 10 < threads * perThread, "\(syncs) fdatasyncs for \(threads * perThread) appends")
        #expect(journal.stats.passes == syncs)
    }
}

extension SampleRecords {
    static let purge = JournalRecord.purge(queue: 3, throughEntry: 33)
}
