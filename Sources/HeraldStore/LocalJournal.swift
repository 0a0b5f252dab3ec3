import Dispatch

/// The local durable journal: segment files of checksummed records in one directory (format:
/// JournalRecordCodec.swift's header, docs/STORAGE.md), group commit on one writer thread,
/// fdatasync per `FsyncPolicy`, reclamation of old segments. Implements the storage seam
/// (LogStore.swift: its contract holds here).
///
/// Threads: every method may be called from any thread. `init` recovers on the caller's thread
/// (scan, verify, truncate a torn tail) and starts the writer thread; completions run on the
/// queue each call names. Reclamation runs on the writer thread after its passes and after a
/// `release` that empties the oldest segment: the owner only calls `release` and carries the
/// `.message` records of `compactionCandidates()`; the journal carries live `.meta` records itself.
/// Memory holds an index (positions, sizes, live counts, meta values), never message bodies:
/// `replay` and `read` read the files.
public final class LocalJournal: LogStore, MetaStore, Sendable {
    /// What opening the directory found and dropped.
    public let recovery: RecoveryReport
    public let directory: String
    private let core: JournalCore

    /// Opens (creating it and its parents if missing) the journal in `directory`, recovering it:
    /// a torn tail of the last segment is truncated; other damage throws `.corrupt` naming the
    /// file and offset unless `repair`, which drops the damaged ranges (see `recovery`).
    public init(
        directory: String, fsync: FsyncPolicy, segmentSize: Int = 64 << 20, files: any JournalFileSystem = PosixFileSystem(),
        repair: Bool = false
    ) throws(StoreError) {
        guard segmentSize >= JournalFormat.headerSize + 64, segmentSize <= Int(UInt32.max) else {
            throw .io("journal segment size \(segmentSize) is outside \(JournalFormat.headerSize + 64)...\(UInt32.max) bytes")
        }
        let (state, report) = try JournalRecovery(directory: directory, files: files, repair: repair).run(now: wallClockMillis())
        recovery = report
        self.directory = directory
        core = JournalCore(directory: directory, policy: fsync, segmentSize: segmentSize, files: files, state: state)
        core.startWriter()
    }

    deinit { core.close() }

    public var ackMeaning: AckMeaning {
        switch core.policy {
        case .always: return .localFsync
        case .interval, .never: return .localWrite
        }
    }

    /// Counters since open.
    public var stats: JournalStats { core.stats }

    public func append(
        _ records: [JournalRecord], on queue: DispatchQueue,
        _ done: @escaping @Sendable (Result<[LogPosition], StoreError>) -> Void
    ) {
        enqueue(records, synced: true, on: queue, done)
    }

    public func appendUnsynced(
        _ records: [JournalRecord], on queue: DispatchQueue,
        _ done: @escaping @Sendable (Result<[LogPosition], StoreError>) -> Void
    ) {
        enqueue(records, synced: false, on: queue, done)
    }

    private func enqueue(
        _ records: [JournalRecord], synced: Bool, on queue: DispatchQueue,
        _ done: @escaping @Sendable (Result<[LogPosition], StoreError>) -> Void
    ) {
        guard !records.isEmpty else {
            queue.async { done(.success([])) }
            return
        }
        var bytes: [UInt8] = []
        for record in records { JournalRecordCodec.appendFrame(record, to: &bytes) }
        guard bytes.count <= core.maxCallBytes else {
            let size = bytes.count
            queue.async { done(.failure(.tooLarge(size))) }
            return
        }
        if !core.enqueue(.records(bytes: bytes, count: records.count, synced: synced, queue: queue, done: done)) {
            queue.async { done(.failure(.closed)) }
        }
    }

    public func replay(_ visit: (JournalRecord, LogPosition) throws(StoreError) -> Void) throws(StoreError) {
        try core.replay(visit)
    }

    /// `replay` with `.message` records in index form, decoded without their bodies (start-up).
    public func replayIndex(_ visit: (IndexRecord, LogPosition) throws(StoreError) -> Void) throws(StoreError) {
        try core.replayIndex(visit)
    }

    public func read(_ position: LogPosition) throws(StoreError) -> JournalRecord { try core.read(position) }

    public func release(_ position: LogPosition) { core.release(position) }

    public func compactionCandidates() -> [LogSegmentID] { core.compactionCandidates() }

    /// Stops the writer after it wrote (and fdatasync'ed) what was queued, then closes the files.
    /// Blocks until then; later calls fail with `.closed`.
    public func close() { core.close() }

    public func put(
        _ key: String, _ value: [UInt8]?, ifRevision: RevisionCondition?, on queue: DispatchQueue,
        _ done: @escaping @Sendable (Result<Revision, StoreError>) -> Void
    ) {
        if !core.enqueue(.meta(key: key, value: value, condition: ifRevision, queue: queue, done: done)) {
            queue.async { done(.failure(.closed)) }
        }
    }

    public func snapshot(prefix: String) -> [(key: String, value: [UInt8], revision: Revision)] { core.snapshot(prefix: prefix) }
}
