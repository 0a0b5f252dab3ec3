import Dispatch
import HeraldStore
import Synchronization
import Testing

/// The storage seam's contract (LogStore.swift), run on every implementation.
enum StoreUnderTest: String, CaseIterable, Sendable {
    case memory, journal

    /// A fresh store; `reopen` gives the state a restart would (same object for memory).
    func make() throws -> StoreFixture { try StoreFixture(self) }
}

final class StoreFixture {
    let kind: StoreUnderTest
    private(set) var store: any LogStore & MetaStore
    let directory = TempDirectory()

    init(_ kind: StoreUnderTest) throws {
        self.kind = kind
        switch kind {
        case .memory: store = MemoryLogStore()
        case .journal: store = try LocalJournal(directory: directory.path, fsync: .always)
        }
    }

    func reopen() throws {
        guard kind == .journal else { return }
        store.close()
        store = try LocalJournal(directory: directory.path, fsync: .always)
    }

    deinit {
        store.close()
        directory.remove()
    }
}

@Suite struct LogStoreContractTests {
    @Test(arguments: StoreUnderTest.allCases)
    func concurrentAppendersKeepCallOrderAndContiguity(_ kind: StoreUnderTest) throws {
        let fixture = try kind.make()
        let store = fixture.store
        let threads = 6, calls = 40
        let reported = Mutex<[[LogPosition]]>([])
        let group = DispatchGroup()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for call in 0..<calls {
                // Three records per call: (thread, call, index) in delete records.
                let records = (0..<3).map { JournalRecord.delete(queue: UInt32(thread), entries: [UInt64(call), UInt64($0)]) }
                group.enter()
                store.append(records, on: testQueue) { result in
                    if case .success(let positions) = result { reported.withLock { $0.append(positions) } }
                    group.leave()
                }
            }
        }
        group.wait()
        #expect(reported.withLock { $0.count } == threads * calls)
        try fixture.reopen()
        let replayed = try replayAll(fixture.store)
        #expect(replayed.count == threads * calls * 3)
        var nextCall = [Int](repeating: 0, count: threads)
        var index = 0
        while index + 2 < replayed.count {
            guard case .delete(let queue, let entries) = replayed[index].0 else { Issue.record("unexpected record"); return }
            let thread = Int(queue)
            #expect(entries == [UInt64(nextCall[thread]), 0], "a thread's calls replay in call order")
            for k in 1..<3 {
                #expect(replayed[index + k].0 == .delete(queue: queue, entries: [entries[0], UInt64(k)]), "one call's records are contiguous")
            }
            nextCall[thread] += 1
            index += 3
        }
        #expect(nextCall == [Int](repeating: calls, count: threads))
        let allReported = Set(reported.withLock { $0.flatMap { $0 } })
        #expect(allReported == Set(replayed.map(\.1)), "replay positions are the reported ones")
    }

    @Test(arguments: StoreUnderTest.allCases)
    func readBackAndReplayEqualAppended(_ kind: StoreUnderTest) throws {
        let fixture = try kind.make()
        var appended: [(JournalRecord, LogPosition)] = []
        for chunk in stride(from: 0, to: SampleRecords.everyKind.count, by: 3) {
            let records = Array(SampleRecords.everyKind[chunk..<min(chunk + 3, SampleRecords.everyKind.count)])
            let positions = try appendAndWait(fixture.store, records).get()
            #expect(positions.count == records.count)
            #expect(positions == positions.sorted())
            appended += zip(records, positions).map { ($0, $1) }
        }
        for (record, position) in appended { #expect(try fixture.store.read(position) == record) }
        try fixture.reopen()
        let replayed = try replayAll(fixture.store)
        #expect(replayed.map(\.0) == appended.map(\.0))
        #expect(replayed.map(\.1) == appended.map(\.1))
        for (record, position) in appended { #expect(try fixture.store.read(position) == record) }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func metaCompareAndSet(_ kind: StoreUnderTest) throws {
        let fixture = try kind.make()
        let store = fixture.store
        let first = try putAndWait(store, "topics/a", [1], .absent).get()
        #expect(putAndWait(store, "topics/a", [2], .absent) == .failure(.revisionMismatch(key: "topics/a", current: first)))
        #expect(putAndWait(store, "topics/a", [2], .at(Revision(first.value + 100))) == .failure(.revisionMismatch(key: "topics/a", current: first)))
        let second = try putAndWait(store, "topics/a", [2], .at(first)).get()
        #expect(second > first)
        let other = try putAndWait(store, "topics/b", [3], nil).get()
        #expect(other > second)
        _ = try putAndWait(store, "queues/q", [4], nil).get()
        #expect(store.snapshot(prefix: "topics/").map(\.key) == ["topics/a", "topics/b"])
        #expect(store.snapshot(prefix: "topics/").map(\.value) == [[2], [3]])
        #expect(store.snapshot(prefix: "topics/").map(\.revision) == [second, other])
        let deleted = try putAndWait(store, "topics/b", nil, .at(other)).get()
        #expect(deleted > other)
        #expect(putAndWait(store, "topics/b", [5], .at(other)) == .failure(.revisionMismatch(key: "topics/b", current: nil)))
        try fixture.reopen()
        #expect(fixture.store.snapshot(prefix: "").map(\.key) == ["queues/q", "topics/a"])
        #expect(fixture.store.snapshot(prefix: "topics/a").first?.revision == second)
        let after = try putAndWait(fixture.store, "topics/c", [6], .absent).get()
        #expect(after > second, "revisions keep increasing across a restart")
    }

    @Test(arguments: StoreUnderTest.allCases)
    func closedStoreFailsCalls(_ kind: StoreUnderTest) throws {
        let fixture = try kind.make()
        _ = try appendAndWait(fixture.store, [.purge(queue: 1, throughEntry: 1)]).get()
        fixture.store.close()
        #expect(appendAndWait(fixture.store, [.purge(queue: 1, throughEntry: 2)]) == .failure(.closed))
        #expect(putAndWait(fixture.store, "k", [1], nil) == .failure(.closed))
        fixture.store.close()  // twice is harmless
    }
}
