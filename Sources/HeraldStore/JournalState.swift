import Dispatch

/// A meta key's current value, and where its record sits (so superseding it frees that record).
struct MetaEntry {
    var value: [UInt8]
    var revision: UInt64
    var position: LogPosition
    var frameSize: Int
}

/// Work waiting for the writer thread, in `append`/`put` call order.
enum PendingWork {
    /// Encoded frames of one `append` call (`count` records, contiguous); `synced` false for
    /// `appendUnsynced` (no sync of their own under `.always`).
    case records(bytes: [UInt8], count: Int, synced: Bool, queue: DispatchQueue, done: @Sendable (Result<[LogPosition], StoreError>) -> Void)
    /// A meta put: its condition is checked and its revision assigned by the writer, in order.
    case meta(key: String, value: [UInt8]?, condition: RevisionCondition?, queue: DispatchQueue, done: @Sendable (Result<Revision, StoreError>) -> Void)
    /// The journal's own copy of a live meta record out of segment `from` (reclamation).
    case carry(key: String, from: UInt32)

    /// Whether `.always` must sync before completing it (everything but unsynced records; a
    /// carried meta record completes nothing but is synced with its pass like any meta).
    var needsSync: Bool {
        if case .records(_, _, let synced, _, _) = self { return synced }
        return true
    }

    func fail(_ error: StoreError) {
        switch self {
        case .records(_, _, _, let queue, let done): queue.async { done(.failure(error)) }
        case .meta(_, _, _, let queue, let done): queue.async { done(.failure(error)) }
        case .carry: break
        }
    }
}

/// Everything `LocalJournal` shares between callers and its writer thread, under one lock.
/// Holds an index only (positions, sizes, counts, meta values), never message bodies.
struct JournalState {
    /// Oldest first; the last is the active segment (appends go to its end).
    var segments: [SegmentInfo] = []
    /// Live `.message` records: packed position → frame size.
    var liveMessages: [UInt64: UInt32] = [:]
    var meta: [String: MetaEntry] = [:]
    var nextRevision: UInt64 = 1
    var pending: [PendingWork] = []
    var closed = false
    /// The segment whose meta records are being carried forward (so they are queued once).
    var carrying: UInt32?
    var stats = JournalStats()
    /// The most recently written passes, so reading a record back soon after it was written (a
    /// queue's consumer right behind its publisher) costs no `pread`.
    var recent = RecentWrites()

    func index(ofSegment id: UInt32) -> Int? {
        var low = 0
        var high = segments.count
        while low < high {
            let mid = (low + high) / 2
            let value = segments[mid].file.id
            if value == id { return mid }
            if value < id { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    /// `account` for a frame recovery verified (a `.message` record in index form).
    mutating func account(_ record: IndexRecord, at position: LogPosition, size: Int) {
        switch record {
        case .message: accountMessage(at: position, size: size)
        case .other(let record): account(record, at: position, size: size)
        }
    }

    /// Accounts one verified frame at `position`: live messages and the meta map.
    mutating func account(_ record: JournalRecord, at position: LogPosition, size: Int) {
        guard let index = index(ofSegment: position.segment.value) else { return }
        switch record {
        case .message:
            accountMessage(at: position, size: size)
        case .meta(let key, let value, let revision):
            if let old = meta[key], let oldIndex = self.index(ofSegment: old.position.segment.value) {
                segments[oldIndex].liveMeta -= 1
                segments[oldIndex].liveBytes -= old.frameSize
            }
            nextRevision = max(nextRevision, revision &+ 1)
            if let value {
                meta[key] = MetaEntry(value: value, revision: revision, position: position, frameSize: size)
                segments[index].liveMeta += 1
                segments[index].liveBytes += size
            } else {
                // A deletion is dead on arrival: reclamation goes oldest-first, so the value it
                // superseded is gone before it is.
                meta[key] = nil
            }
        case .delete, .visibility, .purge:
            break
        }
    }

    mutating func accountMessage(at position: LogPosition, size: Int) {
        guard let index = index(ofSegment: position.segment.value) else { return }
        liveMessages[position.packed] = UInt32(truncatingIfNeeded: size)
        segments[index].liveMessages += 1
        segments[index].liveBytes += size
    }

    /// Frees a `.message` record's space (once; unknown or repeated positions are ignored).
    mutating func release(_ position: LogPosition) -> Bool {
        guard let size = liveMessages.removeValue(forKey: position.packed), let index = index(ofSegment: position.segment.value) else { return false }
        segments[index].liveMessages -= 1
        segments[index].liveBytes -= Int(size)
        return index == 0 && segments[index].liveMessages == 0 && segments.count > 1
    }
}

/// The last few passes' bytes as written (at most `capacity` bytes, oldest dropped first). Only
/// passes that were written whole are remembered, and a failed pass truncates only past them, so
/// what is remembered is what the file holds.
struct RecentWrites {
    struct Chunk {
        var segment: UInt32
        var offset: Int
        var bytes: [UInt8]
    }

    static let capacity = 4 << 20
    private(set) var chunks: [Chunk] = []
    private var head = 0
    private var total = 0

    mutating func remember(segment: UInt32, offset: Int, bytes: [UInt8]) {
        guard bytes.count <= Self.capacity else { return }
        chunks.append(Chunk(segment: segment, offset: offset, bytes: bytes))
        total += bytes.count
        while total > Self.capacity, head < chunks.count {
            total -= chunks[head].bytes.count
            chunks[head].bytes = []
            head += 1
        }
        if head > 64 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }

    /// The `length` bytes at `offset` of `segment`, when one remembered pass holds all of them.
    func bytes(segment: UInt32, offset: Int, length: Int) -> [UInt8]? {
        var index = chunks.count - 1
        while index >= head {
            let chunk = chunks[index]
            if chunk.segment == segment, offset >= chunk.offset, offset + length <= chunk.offset + chunk.bytes.count {
                let start = offset - chunk.offset
                return Array(chunk.bytes[start..<(start + length)])
            }
            index -= 1
        }
        return nil
    }
}
