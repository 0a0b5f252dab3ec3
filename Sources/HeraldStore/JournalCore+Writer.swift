#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation

// The writer thread: group commit, segment roll, background fdatasync, reclamation.
//
// One pass = every piece of work queued since the previous pass, written with one `pwrite` at the
// end of the active segment (two or more only when the pass crosses into a new segment), then,
// per FsyncPolicy: `.always` → fdatasync, then every completion of the pass; `.interval` /
// `.never` → completions right after the write (`.interval` syncs on the writer's timer). Work
// queued during a pass's write or fdatasync goes into the next pass.
//
// A failed write or fdatasync fails every append of the pass (and of the rest of the pass) with
// the error; none is reported durable. The writer truncates the active segment back to its last
// good size (the next pass writes there anyway), so a half-written pass never precedes a good
// frame; it keeps serving later work. Only this thread writes files after `init`.
extension JournalCore {
    func startWriter() {
        let thread = Thread { [self] in writerLoop() }
        thread.name = "herald-journal-writer"
        thread.start()
    }

    private func writerLoop() {
        var writer = WriterContext()
        while true {
            _ = wake.wait(timeout: writer.nextTimeout(policy))
            let (work, closed) = state.withLock { state -> ([PendingWork], Bool) in
                let work = state.pending
                state.pending.removeAll(keepingCapacity: true)
                return (work, state.closed)
            }
            if !work.isEmpty { runPass(work, &writer) }
            if closed {
                if !state.withLock({ $0.pending.isEmpty }) { continue }
                if writer.dirty { syncActive(&writer, background: true) }
                stopped.signal()
                return
            }
            if case .interval(let period) = policy, writer.dirty, writer.lastSync.duration(to: .now) >= period {
                syncActive(&writer, background: true)
            }
            if policy == .always, writer.dirty, writer.lastSync.duration(to: .now) >= .seconds(1) {
                syncActive(&writer, background: true)  // unsynced records wait at most a second
            }
            reclaim(&writer)
        }
    }

    // MARK: - One pass

    private func runPass(_ work: [PendingWork], _ writer: inout WriterContext) {
        writer.buffer.removeAll(keepingCapacity: true)
        writer.group.removeAll(keepingCapacity: true)
        var overlay: [String: UInt64?] = [:]  // meta puts of this pass: key → revision (nil: deleted)
        var failure: StoreError?
        for item in work {
            if let failure {
                item.fail(failure)
                continue
            }
            let start = writer.buffer.count
            var revision: UInt64 = 0
            switch item {
            case .records(let bytes, _, _, _, _):
                writer.buffer.append(contentsOf: bytes)
            case .meta(let key, let value, let condition, let queue, let done):
                let outcome = state.withLock { state -> Result<UInt64, StoreError> in
                    let current: UInt64? = overlay[key] ?? state.meta[key]?.revision
                    switch condition {
                    case .absent? where current != nil, .at(_)? where condition != current.map({ .at(Revision($0)) }):
                        return .failure(.revisionMismatch(key: key, current: current.map(Revision.init)))
                    default:
                        let revision = state.nextRevision
                        state.nextRevision += 1
                        return .success(revision)
                    }
                }
                switch outcome {
                case .success(let assigned): revision = assigned
                case .failure(let error):
                    queue.async { done(.failure(error)) }
                    continue
                }
                overlay[key] = .some(value == nil ? nil : revision)
                JournalRecordCodec.appendFrame(.meta(key: key, value: value, revision: revision), to: &writer.buffer)
            case .carry(let key, let from):
                let entry = state.withLock { $0.meta[key] }
                guard overlay[key] == nil, let entry, entry.position.segment.value == from else { continue }
                JournalRecordCodec.appendFrame(.meta(key: key, value: entry.value, revision: entry.revision), to: &writer.buffer)
            }
            let length = writer.buffer.count - start
            let activeSize = state.withLock { $0.segments[$0.segments.count - 1].size }
            if activeSize + writer.buffer.count > segmentSize && activeSize + start > JournalFormat.headerSize {
                // This item does not fit: commit what precedes it, then continue in a new segment.
                let moved = Array(writer.buffer[start...])
                writer.buffer.removeSubrange(start...)
                if let error = flush(&writer) ?? roll(&writer) {
                    failure = error
                    item.fail(error)
                    continue
                }
                writer.buffer.append(contentsOf: moved)
            }
            writer.group.append(PassItem(work: item, start: writer.buffer.count - length, length: length, revision: revision))
        }
        if failure == nil { failure = flush(&writer) }
        if failure != nil { state.withLock { $0.carrying = nil } }  // retry carrying later
    }

    /// Writes the buffered group at the end of the active segment, syncs per policy, accounts the
    /// records and completes their work. On failure fails the group and returns the error.
    private func flush(_ writer: inout WriterContext) -> StoreError? {
        defer {
            writer.buffer.removeAll(keepingCapacity: true)
            writer.group.removeAll(keepingCapacity: true)
        }
        guard !writer.group.isEmpty else { return nil }
        let (file, offset) = state.withLock { ($0.segments[$0.segments.count - 1].file, $0.segments[$0.segments.count - 1].size) }
        do throws(StoreError) {
            if writer.needsTruncate {
                // A failed pass's bytes are still past `offset`: they must go before anything follows them.
                try files.ftruncate(file.fd, to: Int64(offset))
                writer.needsTruncate = false
            }
            try files.write(file.fd, writer.buffer, at: Int64(offset))
            writer.dirty = true
            // A pass of unsynced records only (visibility marks, pushers' deletes) is not synced
            // on its own: the next synced pass, or the writer's one-second check, covers it.
            if policy == .always && writer.group.contains(where: { $0.work.needsSync }) { try sync(file, &writer) }
        } catch {
            // Nothing of this group may survive as a valid frame before a later good one.
            do throws(StoreError) {
                try files.ftruncate(file.fd, to: Int64(offset))
                writer.needsTruncate = false
            } catch _ {
                writer.needsTruncate = true
            }
            state.withLock { $0.stats.failedPasses += 1 }
            for item in writer.group { item.work.fail(error) }
            return error
        }
        writer.needsTruncate = false
        let segment = LogSegmentID(file.id)
        var completions: [(PassItem, [LogPosition])] = []
        completions.reserveCapacity(writer.group.count)
        state.withLock { state in
            state.segments[state.segments.count - 1].size = offset + writer.buffer.count
            state.recent.remember(segment: file.id, offset: offset, bytes: writer.buffer)
            state.stats.passes += 1
            state.stats.bytesWritten += Int64(writer.buffer.count)
            for item in writer.group {
                var positions: [LogPosition] = []
                var at = item.start
                while at < item.start + item.length {
                    let size = JournalFormat.frameHeaderSize + Int(JournalRecordCodec.loadU32(writer.buffer[...], at: at))
                    let position = LogPosition(segment: segment, offset: UInt32(truncatingIfNeeded: offset + at))
                    let kind = writer.buffer[at + 8]
                    if kind == JournalFormat.Kind.message.rawValue {
                        state.accountMessage(at: position, size: size)
                    } else if kind == JournalFormat.Kind.meta.rawValue, let record = try? JournalRecordCodec.decodeFrame(writer.buffer[at..<(at + size)]) {
                        state.account(record, at: position, size: size)
                        if case .carry = item.work { state.stats.metaCarried += 1 }
                    }
                    positions.append(position)
                    at += size
                }
                state.stats.recordsWritten += positions.count
                completions.append((item, positions))
            }
        }
        for (item, positions) in completions {
            switch item.work {
            case .records(_, _, _, let queue, let done): queue.async { done(.success(positions)) }
            case .meta(_, _, _, let queue, let done):
                let revision = Revision(item.revision)
                queue.async { done(.success(revision)) }
            case .carry: break
            }
        }
        return nil
    }

    private func sync(_ file: SegmentFile, _ writer: inout WriterContext) throws(StoreError) {
        state.withLock { $0.stats.fdatasyncs += 1 }
        try files.fdatasync(file.fd)
        writer.dirty = false
        writer.lastSync = .now
    }

    /// The `.interval` timer's (and close's) fdatasync: no append waits for it, so a failure is counted.
    private func syncActive(_ writer: inout WriterContext, background: Bool) {
        guard let file = state.withLock({ $0.segments.last?.file }) else { return }
        do throws(StoreError) {
            try sync(file, &writer)
        } catch _ {
            state.withLock { $0.stats.backgroundSyncFailures += 1 }
            writer.lastSync = .now
        }
    }

    /// Closes the active segment (synced unless `.never`) and starts the next one.
    private func roll(_ writer: inout WriterContext) -> StoreError? {
        let (old, size) = state.withLock { ($0.segments[$0.segments.count - 1].file, $0.segments[$0.segments.count - 1].size) }
        do throws(StoreError) {
            if writer.needsTruncate {
                try files.ftruncate(old.fd, to: Int64(size))
                writer.needsTruncate = false
            }
            if writer.dirty && policy != .never { try sync(old, &writer) }
            let file = try createSegment(id: old.id + 1, directory: directory, files: files, createdAtMillis: wallClockMillis(), sync: policy == .always)
            if policy == .always { state.withLock { $0.stats.fdatasyncs += 1 } }
            writer.dirty = policy != .always
            state.withLock { state in
                state.segments.append(SegmentInfo(file: file, size: JournalFormat.headerSize))
                state.stats.segmentsCreated += 1
            }
            return nil
        } catch {
            state.withLock { $0.stats.failedPasses += 1 }
            return error
        }
    }

    // MARK: - Reclamation

    /// Removes old segments with nothing live, oldest first; queues the carry-forward of live meta
    /// records out of the oldest segment once its messages are all released.
    private func reclaim(_ writer: inout WriterContext) {
        let (removable, carry) = state.withLock { state -> ([SegmentFile], [PendingWork]) in
            var removable: [SegmentFile] = []
            var index = 0
            while index < state.segments.count - 1, state.segments[index].liveRecords == 0 {
                removable.append(state.segments[index].file)
                index += 1
            }
            var carry: [PendingWork] = []
            if index < state.segments.count - 1, state.segments[index].liveMessages == 0, state.carrying != state.segments[index].file.id {
                let id = state.segments[index].file.id
                state.carrying = id
                carry = state.meta.filter { $0.value.position.segment.value == id }.map { PendingWork.carry(key: $0.key, from: id) }
                state.pending.append(contentsOf: carry)
            }
            return (removable, carry)
        }
        if !carry.isEmpty { wake.signal() }
        guard !removable.isEmpty else { return }
        // Carried copies must be on disk before the originals go.
        if writer.dirty && policy != .never { syncActive(&writer, background: true) }
        var removed = 0
        for file in removable {
            do throws(StoreError) {
                try files.unlink(file.path)
                removed += 1
            } catch _ {
                break  // keep it (and everything newer) for a later attempt: oldest-first only
            }
        }
        if removed > 0 {
            try? files.syncDirectory(directory)
            state.withLock { state in
                state.segments.removeFirst(removed)
                state.stats.segmentsRemoved += removed
            }
        }
    }
}

/// The writer thread's own state (never shared).
struct WriterContext {
    /// The pass's frames, reused across passes (no allocation per pass once grown).
    var buffer: [UInt8] = []
    var group: [PassItem] = []
    /// Written since the last fdatasync.
    var dirty = false
    var lastSync = ContinuousClock.now
    /// A failed write could not be truncated away: truncate before anything depends on the end.
    var needsTruncate = false

    func nextTimeout(_ policy: FsyncPolicy) -> DispatchTime {
        let period: Duration
        switch policy {
        case .interval(let interval) where dirty: period = interval
        case .always where dirty: period = .seconds(1)  // unsynced records written under `.always`
        default: return .distantFuture
        }
        let left = ContinuousClock.now.duration(to: lastSync + period)
        let (seconds, attoseconds) = left.components
        let nanos = max(0, seconds) * 1_000_000_000 + max(0, attoseconds / 1_000_000_000)
        return .now() + .nanoseconds(Int(clamping: nanos))
    }
}

/// One piece of work placed in the pass buffer.
struct PassItem {
    var work: PendingWork
    var start: Int
    var length: Int
    /// The revision a meta put was given.
    var revision: UInt64
}

func wallClockMillis() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
