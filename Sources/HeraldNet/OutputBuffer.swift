// OutputBuffer: the outbound byte queue of one connection. Bytes are appended at the end and
// consumed from the front as SSL_write/send succeed. They live in a list of chunks and never move
// once written: a contiguous buffer had to slide or regrow its pending bytes to make room, and
// for a subscriber whose backlog stays large that copying was ≈ 4 % of a 10→10 server's time.
// Drained chunks are kept for reuse up to `retainedCapacity`, so steady-state writes allocate
// nothing, and idle connections stay small after a burst.
// `readable` is the front chunk's pending bytes; a retried SSL_write is offered the same front
// chunk again, whose pending bytes only grow (TLSContext sets SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
//
// Frame boundaries: each append call holds whole frames (the Connection.write contract), so the
// buffer remembers where each pending call ends. `discardUnstarted` uses them to drop queued frames
// nobody started sending while keeping the one whose first bytes already went out.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct OutputBuffer {
    /// One allocation; its pending bytes are `start..<end`.
    private struct Chunk {
        let base: UnsafeMutableRawPointer
        let capacity: Int
        var start = 0
        var end = 0

        var pending: Int { end - start }
        var room: Int { capacity - end }
    }

    /// Pending chunks, oldest first. Only the first may be partly consumed and only the last
    /// partly filled; when nothing is pending, at most one (empty) chunk stays here.
    private var chunks: [Chunk] = []
    /// Drained standard chunks, kept for the next appends.
    private var spare: [Chunk] = []
    private(set) var count = 0
    /// Bytes consumed since creation: the stream offset of the first pending byte.
    private(set) var consumedTotal = 0
    /// Stream offset where the append call containing the first pending byte began (==
    /// consumedTotal when it sits on a boundary, i.e. no frame was partly sent).
    private var callStart = 0
    /// Stream offsets where pending append calls end, ascending: `callEnds[callEndsHead...]`.
    private var callEnds: [Int] = []
    private var callEndsHead = 0

    /// The first chunk of a connection (most never need more).
    static let minimumCapacity = 16 << 10
    /// Every later chunk, unless one append needs more.
    static let chunkCapacity = 64 << 10
    /// Storage kept once everything is sent; the rest is freed.
    static let retainedCapacity = 256 << 10

    var isEmpty: Bool { count == 0 }
    /// True when the bytes at the front belong to an append call that was partly consumed.
    var isMidCall: Bool { consumedTotal > callStart }
    /// Bytes allocated (pending chunks and spares).
    var capacity: Int { chunks.reduce(0) { $0 + $1.capacity } + spare.reduce(0) { $0 + $1.capacity } }

    /// The first chunk's pending bytes (valid until the next mutation): what the next write
    /// offers. Fewer than `count` when the pending bytes span chunks.
    var readable: UnsafeRawBufferPointer {
        guard let first = chunks.first else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: first.base + first.start, count: first.pending)
    }

    /// Every pending byte in order, copied (tests and diagnostics; writes use `readable`).
    func pendingBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for chunk in chunks {
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: chunk.base + chunk.start, count: chunk.pending))
        }
        return bytes
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count).copyMemory(from: source, byteCount: bytes.count)
        commit(bytes.count)
    }

    /// Lets `body` write up to `maxBytes` in place; it returns how many it wrote.
    mutating func append(maxBytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        guard maxBytes > 0 else { return 0 }
        let destination = reserve(maxBytes)
        let written = body(UnsafeMutableRawBufferPointer(start: destination, count: maxBytes))
        let used = min(max(written, 0), maxBytes)
        if used > 0 { commit(used) }
        return used
    }

    private mutating func commit(_ n: Int) {
        chunks[chunks.count - 1].end += n
        count += n
        callEnds.append(consumedTotal + count)
    }

    mutating func consume(_ n: Int) {
        var left = min(max(n, 0), count)
        count -= left
        consumedTotal += left
        while left > 0, !chunks.isEmpty {
            let taken = min(left, chunks[0].pending)
            chunks[0].start += taken
            left -= taken
            if chunks[0].pending == 0 { dropFirstChunk() }
        }
        if count == 0, !chunks.isEmpty { dropFirstChunk() }
        while callEndsHead < callEnds.count && callEnds[callEndsHead] <= consumedTotal {
            callStart = callEnds[callEndsHead]
            callEndsHead += 1
        }
        if count == 0 {
            callEnds.removeAll(keepingCapacity: true)
            callEndsHead = 0
        } else if callEndsHead >= 64 && callEndsHead * 2 >= callEnds.count {
            callEnds.removeFirst(callEndsHead)
            callEndsHead = 0
        }
    }

    /// Drops queued bytes nobody started sending, keeping whole append calls (whole frames):
    /// the call whose bytes partly went out is kept to its end, and so is every call overlapping
    /// the first `pinnedBytes` (bytes a pending TLS write retry must offer again). Returns the
    /// number of bytes dropped.
    @discardableResult
    mutating func discardUnstarted(keepingFront pinnedBytes: Int = 0) -> Int {
        guard !isEmpty else { return 0 }
        let front = max(min(pinnedBytes, count), isMidCall ? 1 : 0)
        var keepEnd = consumedTotal
        if front > 0 {
            let threshold = consumedTotal + front
            var index = callEndsHead
            while index < callEnds.count && callEnds[index] < threshold { index += 1 }
            keepEnd = index < callEnds.count ? callEnds[index] : consumedTotal + count
        }
        let dropped = consumedTotal + count - keepEnd
        var left = dropped
        while left > 0, !chunks.isEmpty {
            let last = chunks.count - 1
            let taken = min(left, chunks[last].pending)
            chunks[last].end -= taken
            left -= taken
            if chunks[last].pending == 0 {
                if chunks.count == 1 { break }
                recycle(chunks.removeLast())
            }
        }
        count -= dropped
        while callEnds.count > callEndsHead, let last = callEnds.last, last > keepEnd { callEnds.removeLast() }
        if count == 0 {
            if !chunks.isEmpty { dropFirstChunk() }
            callEnds.removeAll(keepingCapacity: true)
            callEndsHead = 0
        }
        return dropped
    }

    /// Frees what is kept beyond `retainedCapacity` once everything is sent, so idle connections
    /// stay small after a burst.
    mutating func shrinkIfEmpty() {
        guard count == 0 else { return }
        var kept = 0
        if let first = chunks.first {
            if first.capacity > Self.retainedCapacity {
                free(first.base)
                chunks.removeAll()
            } else {
                kept = first.capacity
            }
        }
        while let last = spare.last, kept + spare.count * Self.chunkCapacity > Self.retainedCapacity {
            free(last.base)
            spare.removeLast()
        }
    }

    mutating func release() {
        for chunk in chunks { free(chunk.base) }
        for chunk in spare { free(chunk.base) }
        chunks = []
        spare = []
        consumedTotal += count
        count = 0
        callStart = consumedTotal
        callEnds = []
        callEndsHead = 0
    }

    /// The first chunk is drained: keep it when it is the only one (reset to its start, so a
    /// connection that keeps up reuses one chunk), else move it to the spares.
    private mutating func dropFirstChunk() {
        if chunks.count == 1 {
            chunks[0].start = 0
            chunks[0].end = 0
        } else {
            recycle(chunks.removeFirst())
        }
    }

    private mutating func recycle(_ chunk: Chunk) {
        if chunk.capacity == Self.chunkCapacity && spare.count * Self.chunkCapacity < Self.retainedCapacity {
            spare.append(Chunk(base: chunk.base, capacity: chunk.capacity))
        } else {
            free(chunk.base)
        }
    }

    /// Room for `n` more bytes after the last pending byte, in one piece: the last chunk's free
    /// end, or a new chunk (a spare when one fits). Pending bytes never move.
    private mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        if let last = chunks.last {
            if last.room >= n { return last.base + last.end }
            if last.pending == 0, let emptied = chunks.popLast() { recycle(emptied) }  // too small and unused
        }
        let chunk: Chunk
        if chunks.isEmpty && count == 0 && n <= Self.minimumCapacity && spare.isEmpty {
            chunk = Self.allocate(Self.minimumCapacity)
        } else if n <= Self.chunkCapacity, let reused = spare.popLast() {
            chunk = reused
        } else {
            chunk = Self.allocate(max(Self.chunkCapacity, n))
        }
        chunks.append(chunk)
        return chunk.base
    }

    private static func allocate(_ capacity: Int) -> Chunk {
        guard let base = malloc(capacity) else { fatalError("out of memory (\(capacity) bytes)") }
        return Chunk(base: base, capacity: capacity)
    }
}
