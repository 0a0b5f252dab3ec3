import Dispatch
import HeraldCore

// The storage seam (../shared/notes/storage-seam.md, adapted): the queue and subscription state
// machines see only `LogStore` and `MetaStore`. `LocalJournal` (segment files, group commit,
// fdatasync) is the first implementation; a replicated engine (JetStream, PostgreSQL) can be the
// next one. Every implementation stores the identical record bytes (`JournalRecordCodec`) and
// passes the same contract suite (Tests/HeraldStoreTests/LogStoreContract*.swift).
//
// Contract:
// - `append` may be called from any thread. Records enter the log in the order the `append` calls
//   were made (an owner that appends under its own lock gets the log order of its lock), and the
//   records of one call are contiguous. `done` runs exactly once, on `queue`, after every record of
//   the call is as durable as `ackMeaning` says, with each record's position; or with the error
//   that kept them from being so (then none of them is reported durable, and an implementation may
//   have written some of them: a later replay can see them — owners treat an unconfirmed record as
//   "maybe").
// - Positions are stable until the record's segment is reclaimed; `read` reads any record whose
//   position was reported and that was not released.
// - Space: an appended `.message` record is *live* until its owner calls `release(position)` once.
//   Meta records are live until superseded (the store tracks that itself). Every other record kind
//   is dead on arrival: it only matters while the records it refers to exist. A store reclaims from
//   the oldest segment forward only, which keeps that true (a delete can only name an entry whose
//   message record is older).
// - `replay` runs once, before the first append, on the caller's thread, and visits every record
//   in log order, including superseded meta records and messages that are dead.
public protocol LogStore: AnyObject, Sendable {
    /// What a successful `append` completion promises.
    var ackMeaning: AckMeaning { get }

    /// Appends `records` in order (see contract); `done` on `queue` with their positions.
    func append(
        _ records: [JournalRecord], on queue: DispatchQueue,
        _ done: @escaping @Sendable (Result<[LogPosition], StoreError>) -> Void)

    /// `append` for records a crash may lose without harm, because losing them only repeats work
    /// (a receive's visibility marks, a delivered message's delete: the message is delivered
    /// again, at least once). In order with every other append; a store that syncs each append
    /// may write these without a sync of their own — the next synced append (or a background sync
    /// within a second) covers them. `done` means written, not necessarily synced.
    func appendUnsynced(
        _ records: [JournalRecord], on queue: DispatchQueue,
        _ done: @escaping @Sendable (Result<[LogPosition], StoreError>) -> Void)

    /// Visits every record in log order (start-up only).
    func replay(_ visit: (JournalRecord, LogPosition) throws(StoreError) -> Void) throws(StoreError)

    /// `replay` with `.message` records in index form (`IndexRecord`: no body, no attributes), so
    /// start-up does not copy what it does not keep. A default implementation converts `replay`'s.
    func replayIndex(_ visit: (IndexRecord, LogPosition) throws(StoreError) -> Void) throws(StoreError)

    /// Reads one record back (a receive reads the message's body; `pread`, the page cache does the rest).
    func read(_ position: LogPosition) throws(StoreError) -> JournalRecord

    /// The owner no longer needs the `.message` record at `position` (every queue deleted or
    /// expired it, or a newer copy superseded it).
    func release(_ position: LogPosition)

    /// Segments the owner should carry forward: live `.message` records in them should be appended
    /// again (as `.message` records with their current state, then the old positions released), so
    /// mostly-dead old segments can go. Empty when nothing is worth compacting.
    func compactionCandidates() -> [LogSegmentID]

    /// Flushes and closes; later calls fail with `.closed`.
    func close()
}

/// Metadata (topics, queues, subscriptions created at run time): a key-value map with revisions
/// for compare-and-set, persisted as `.meta` records in the same log by the local journal.
public protocol MetaStore: AnyObject, Sendable {
    /// Puts (or with nil, deletes) `key`. `ifRevision`: nil = no condition, `.absent` = create
    /// only, `.at(r)` = only if the key's revision is `r`. `done` on `queue` once durable.
    func put(
        _ key: String, _ value: [UInt8]?, ifRevision: RevisionCondition?, on queue: DispatchQueue,
        _ done: @escaping @Sendable (Result<Revision, StoreError>) -> Void)

    /// The current value and revision of every key under `prefix` (sorted by key).
    func snapshot(prefix: String) -> [(key: String, value: [UInt8], revision: Revision)]
}

public struct Revision: Hashable, Comparable, Sendable {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public static func < (a: Revision, b: Revision) -> Bool { a.value < b.value }
}

public enum RevisionCondition: Hashable, Sendable {
    case absent
    case at(Revision)
}

/// Where a record sits: the segment and the byte offset of its frame, packed so an index entry
/// holds it in 8 bytes. Ordered like the log.
public struct LogPosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let packed: UInt64
    public init(segment: LogSegmentID, offset: UInt32) { packed = UInt64(segment.value) << 32 | UInt64(offset) }
    public init(packed: UInt64) { self.packed = packed }
    public var segment: LogSegmentID { LogSegmentID(UInt32(truncatingIfNeeded: packed >> 32)) }
    public var offset: UInt32 { UInt32(truncatingIfNeeded: packed) }
    public static func < (a: LogPosition, b: LogPosition) -> Bool { a.packed < b.packed }
    public var description: String { "\(segment.value):\(offset)" }
}

public struct LogSegmentID: Hashable, Comparable, Sendable {
    public let value: UInt32
    public init(_ value: UInt32) { self.value = value }
    public static func < (a: LogSegmentID, b: LogSegmentID) -> Bool { a.value < b.value }
}

/// What an append's completion promises, so the broker can say what a confirmation means.
public enum AckMeaning: Hashable, Sendable {
    /// `fdatasync` covered the records: they survive a power loss.
    case localFsync
    /// `write` returned: they survive a crash of the process, not of the machine.
    case localWrite
    /// Held in memory only (tests).
    case memory
}

/// When the local journal calls `fdatasync` (config `durability.fsync`).
public enum FsyncPolicy: Hashable, Sendable {
    /// Before confirming: every confirmation is covered by an fdatasync (group commit).
    case always
    /// Confirm after `write`; fdatasync on a timer with this period.
    case interval(Duration)
    /// Never (tests, benchmarks); the OS writes back when it likes.
    case never
}

public enum StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The disk is full (ENOSPC, EDQUOT); the store keeps serving reads.
    case diskFull(String)
    /// Any other I/O failure, with the operation and errno text.
    case io(String)
    /// A record that fails its checksum or does not parse, not at the tail (start-up stops unless repairing).
    case corrupt(file: String, offset: UInt64, reason: String)
    /// A record too large for a segment.
    case tooLarge(Int)
    /// `ifRevision` did not hold.
    case revisionMismatch(key: String, current: Revision?)
    /// The store was closed.
    case closed

    public var description: String {
        switch self {
        case .diskFull(let what): return "disk full: \(what)"
        case .io(let what): return "I/O error: \(what)"
        case .corrupt(let file, let offset, let reason): return "corrupt journal record in \(file) at offset \(offset): \(reason)"
        case .tooLarge(let size): return "record of \(size) bytes is larger than a journal segment"
        case .revisionMismatch(let key, let current): return "revision mismatch for \(key) (current \(current.map { String($0.value) } ?? "absent"))"
        case .closed: return "the journal is closed"
        }
    }
}

extension LogStore {
    /// Stores without a cheaper unsynced write treat it as a normal append.
    public func appendUnsynced(
        _ records: [JournalRecord], on queue: DispatchQueue,
        _ done: @escaping @Sendable (Result<[LogPosition], StoreError>) -> Void
    ) {
        append(records, on: queue, done)
    }
}
