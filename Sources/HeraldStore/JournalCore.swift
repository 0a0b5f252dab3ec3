import Dispatch
import Synchronization

/// The journal's engine: the shared state, the file layer and the writer thread's loop
/// (JournalCore+Writer.swift). `LocalJournal` is its public face; the writer thread holds the
/// core, not the journal, so dropping a journal without `close()` still stops the thread.
///
/// Threads: `append`/`put`/`release`/`read`/`snapshot` from any thread (short critical sections on
/// `state`, no I/O under the lock except none: `read` does its `pread` after the lock);
/// everything that writes files runs on the writer thread, after `init` has recovered.
final class JournalCore: Sendable {
    let directory: String
    let policy: FsyncPolicy
    let segmentSize: Int
    let files: any JournalFileSystem
    let state: Mutex<JournalState>
    /// Signalled when work is queued (or space freed); the writer waits on it.
    let wake = DispatchSemaphore(value: 0)
    /// Signalled once by the writer thread when it exits.
    let stopped = DispatchSemaphore(value: 0)

    /// The largest `append` call (its encoded frames) a segment can hold.
    var maxCallBytes: Int { segmentSize - JournalFormat.headerSize }

    init(directory: String, policy: FsyncPolicy, segmentSize: Int, files: any JournalFileSystem, state: JournalState) {
        self.directory = directory
        self.policy = policy
        self.segmentSize = segmentSize
        self.files = files
        self.state = Mutex(state)
    }

    // MARK: - Callers' side

    func enqueue(_ work: PendingWork) -> Bool {
        let (accepted, first) = state.withLock { state -> (Bool, Bool) in
            if state.closed { return (false, false) }
            state.pending.append(work)
            return (true, state.pending.count == 1)
        }
        // One signal per batch: while work is pending the writer has a wake-up coming.
        if first { wake.signal() }
        return accepted
    }

    func release(_ position: LogPosition) {
        if state.withLock({ $0.release(position) }) { wake.signal() }
    }

    func read(_ position: LogPosition) throws(StoreError) -> JournalRecord {
        // A live message's frame size is known (`liveMessages`): one pread instead of two.
        let found = state.withLock { state -> (SegmentFile, Int, Int?, [UInt8]?)? in
            guard !state.closed, let index = state.index(ofSegment: position.segment.value) else { return nil }
            let known = state.liveMessages[position.packed].map(Int.init)
            let cached = known.flatMap { state.recent.bytes(segment: position.segment.value, offset: Int(position.offset), length: $0) }
            return (state.segments[index].file, state.segments[index].size, known, cached)
        }
        guard let (file, size, known, cached) = found else {
            if state.withLock({ $0.closed }) { throw .closed }
            throw .io("no journal segment \(position.segment.value) (position \(position))")
        }
        let offset = Int(position.offset)
        guard offset >= JournalFormat.headerSize, offset + JournalFormat.frameHeaderSize <= size else {
            throw .io("no record at \(position): offset outside \(file.name)")
        }
        var frame: [UInt8]
        if let cached, cached.count >= JournalFormat.frameHeaderSize, cached.count <= size - offset {
            frame = cached  // written moments ago: no pread
        } else if let known, known >= JournalFormat.frameHeaderSize, known <= size - offset {
            frame = [UInt8](repeating: 0, count: known)
            let got = try files.read(file.fd, into: &frame, at: Int64(offset))
            guard got == known else { throw .corrupt(file: file.name, offset: UInt64(offset), reason: "short read of a frame") }
            // decodeFrame checks the length field against what was read.
        } else {
            var header = [UInt8](repeating: 0, count: JournalFormat.frameHeaderSize)
            let got = try files.read(file.fd, into: &header, at: Int64(offset))
            guard got == header.count else { throw .corrupt(file: file.name, offset: UInt64(offset), reason: "short read of a frame header") }
            let length = Int(JournalRecordCodec.loadU32(header[...], at: 0))
            guard length <= size - offset - JournalFormat.frameHeaderSize else {
                throw .corrupt(file: file.name, offset: UInt64(offset), reason: "frame length \(length) runs past the segment's end")
            }
            frame = header
            frame.append(contentsOf: repeatElement(0, count: length))
            let payloadGot = try files.read(file.fd, into: &frame, from: JournalFormat.frameHeaderSize, at: Int64(offset + JournalFormat.frameHeaderSize))
            guard payloadGot == length else { throw .corrupt(file: file.name, offset: UInt64(offset), reason: "short read of a frame") }
        }
        do {
            return try JournalRecordCodec.decodeFrame(frame[...])
        } catch {
            throw .corrupt(file: file.name, offset: UInt64(offset), reason: error.reason)
        }
    }

    func replay(_ visit: (JournalRecord, LogPosition) throws(StoreError) -> Void) throws(StoreError) {
        try scanSegments { bytes, offset, size, record throws(StoreError) in
            switch record {
            case .other(let record): try visit(record, offset)
            case .message:
                // The frame verified: its full decode cannot fail.
                let payload = bytes[(Int(offset.offset) + JournalFormat.frameHeaderSize)..<(Int(offset.offset) + size)]
                let full: JournalRecord
                do throws(JournalDecodeError) {
                    full = try JournalRecordCodec.decode(kind: JournalFormat.Kind.message.rawValue, payload: payload)
                } catch {
                    throw .corrupt(file: SegmentFile.name(of: offset.segment.value), offset: UInt64(offset.offset), reason: error.reason)
                }
                try visit(full, offset)
            }
        }
    }

    func replayIndex(_ visit: (IndexRecord, LogPosition) throws(StoreError) -> Void) throws(StoreError) {
        try scanSegments { _, position, _, record throws(StoreError) in try visit(record, position) }
    }

    /// Every verifying frame of every segment, in log order, with its segment's bytes and size.
    private func scanSegments(_ visit: ([UInt8], LogPosition, Int, IndexRecord) throws(StoreError) -> Void) throws(StoreError) {
        let segments = state.withLock { state -> [(SegmentFile, Int)]? in
            state.closed ? nil : state.segments.map { ($0.file, $0.size) }
        }
        guard let segments else { throw .closed }
        for (file, size) in segments {
            let bytes = try file.readAll(size: size)
            // Recovery left only verifying frames (and padding) below `size`; anything else is skipped.
            _ = try SegmentScanner(bytes: bytes).scan(from: JournalFormat.headerSize) { (offset, frameSize, record) throws(StoreError) in
                if let record {
                    try visit(bytes, LogPosition(segment: LogSegmentID(file.id), offset: UInt32(truncatingIfNeeded: offset)), frameSize, record)
                }
            }
        }
    }

    func compactionCandidates() -> [LogSegmentID] {
        state.withLock { state in
            state.segments.dropLast().filter { $0.liveBytes * 2 < $0.size }.map { LogSegmentID($0.file.id) }
        }
    }

    /// Stops accepting work, lets the writer finish what was queued (flush + fdatasync), waits for
    /// it, then drops the segments (their descriptors close when no reader holds them).
    func close() {
        let first = state.withLock { state -> Bool in
            if state.closed { return false }
            state.closed = true
            return true
        }
        guard first else { return }
        wake.signal()
        stopped.wait()
        state.withLock { $0.segments.removeAll() }
    }

    var stats: JournalStats { state.withLock { $0.stats } }

    func snapshot(prefix: String) -> [(key: String, value: [UInt8], revision: Revision)] {
        state.withLock { state in
            state.meta.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value.value, Revision($0.value.revision)) }
        }
    }
}
