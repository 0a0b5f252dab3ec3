import Dispatch
import Synchronization

/// A `LogStore` and `MetaStore` held in memory: for tests of the state machines above the seam,
/// and the reference the contract suite checks the journal against. Appends complete at once
/// (asynchronously on the caller's queue); `failNextAppends` makes them fail as a full disk would.
public final class MemoryLogStore: LogStore, MetaStore, Sendable {
    private struct State {
        var records: [(JournalRecord, LogPosition)] = []
        var released: Set<LogPosition> = []
        var meta: [String: (value: [UInt8], revision: Revision)] = [:]
        var nextRevision: UInt64 = 1
        var failures = 0
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    public var ackMeaning: AckMeaning { .memory }

    /// The next `count` appends (and meta puts) fail with `.diskFull`.
    public func failNextAppends(_ count: Int) { state.withLock { $0.failures = count } }

    public func append(
        _ records: [JournalRecord], on queue: DispatchQueue,
        _ done: @escaping @Sendable (Result<[LogPosition], StoreError>) -> Void
    ) {
        let result = state.withLock { state -> Result<[LogPosition], StoreError> in
            if state.closed { return .failure(.closed) }
            if state.failures > 0 {
                state.failures -= 1
                return .failure(.diskFull("memory store told to fail"))
            }
            var positions: [LogPosition] = []
            for record in records {
                let position = LogPosition(segment: LogSegmentID(1), offset: UInt32(state.records.count))
                state.records.append((record, position))
                positions.append(position)
            }
            return .success(positions)
        }
        queue.async { done(result) }
    }

    public func replay(_ visit: (JournalRecord, LogPosition) throws(StoreError) -> Void) throws(StoreError) {
        let records = state.withLock { $0.records }
        for (record, position) in records { try visit(record, position) }
    }

    public func read(_ position: LogPosition) throws(StoreError) -> JournalRecord {
        let found = state.withLock { state -> JournalRecord? in
            let index = Int(position.offset)
            guard position.segment == LogSegmentID(1), index < state.records.count, !state.released.contains(position) else { return nil }
            return state.records[index].0
        }
        guard let found else { throw .io("no record at \(position)") }
        return found
    }

    public func release(_ position: LogPosition) { _ = state.withLock { $0.released.insert(position) } }

    /// Positions released so far (tests check an owner releases what it no longer needs).
    public var releasedPositions: Set<LogPosition> { state.withLock { $0.released } }

    public func compactionCandidates() -> [LogSegmentID] { [] }

    public func close() { state.withLock { $0.closed = true } }

    public func put(
        _ key: String, _ value: [UInt8]?, ifRevision: RevisionCondition?, on queue: DispatchQueue,
        _ done: @escaping @Sendable (Result<Revision, StoreError>) -> Void
    ) {
        let result = state.withLock { state -> Result<Revision, StoreError> in
            if state.closed { return .failure(.closed) }
            if state.failures > 0 {
                state.failures -= 1
                return .failure(.diskFull("memory store told to fail"))
            }
            let current = state.meta[key]?.revision
            let holds: Bool
            switch ifRevision {
            case nil: holds = true
            case .absent?: holds = current == nil
            case .at(let revision)?: holds = current == revision
            }
            guard holds else { return .failure(.revisionMismatch(key: key, current: current)) }
            let revision = Revision(state.nextRevision)
            state.nextRevision += 1
            state.meta[key] = value.map { ($0, revision) }
            state.records.append((.meta(key: key, value: value, revision: revision.value), LogPosition(segment: LogSegmentID(1), offset: UInt32(state.records.count))))
            return .success(revision)
        }
        queue.async { done(result) }
    }

    public func snapshot(prefix: String) -> [(key: String, value: [UInt8], revision: Revision)] {
        state.withLock { state in
            state.meta.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value.value, $0.value.revision) }
        }
    }
}
