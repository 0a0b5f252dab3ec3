// OutputBuffer: the growable outbound byte queue of one connection. Bytes are appended at the end and
// consumed from the front as SSL_write/send succeed; storage is reused, compacted in place, and
// released after a large burst drains, so steady-state writes allocate nothing.
// The pending region may move (compaction/growth): TLSContext sets SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
// and a retried SSL_write always starts with the same bytes and a length that only grows.
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
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    private var start = 0
    private var end = 0
    /// Bytes consumed since creation: the stream offset of `start`.
    private(set) var consumedTotal = 0
    /// Stream offset where the append call containing `start` began (== consumedTotal when `start`
    /// sits on a boundary, i.e. no frame was partly sent).
    private var callStart = 0
    /// Stream offsets where pending append calls end, ascending: `callEnds[callEndsHead...]`.
    private var callEnds: [Int] = []
    private var callEndsHead = 0

    static let minimumCapacity = 16 << 10
    /// Storage above this size is freed once empty.
    static let retainedCapacity = 256 << 10

    var count: Int { end - start }
    var isEmpty: Bool { start == end }
    /// True when the bytes at the front belong to an append call that was partly consumed.
    var isMidCall: Bool { consumedTotal > callStart }

    /// The pending bytes (valid until the next mutation).
    var readable: UnsafeRawBufferPointer {
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + start, count: end - start)
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let src = bytes.baseAddress, bytes.count > 0 else { return }
        let dst = reserve(bytes.count)
        dst.copyMemory(from: src, byteCount: bytes.count)
        end += bytes.count
        callEnds.append(consumedTotal + count)
    }

    /// Lets `body` write up to `maxBytes` in place; it returns how many it wrote.
    mutating func append(maxBytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        guard maxBytes > 0 else { return 0 }
        let dst = reserve(maxBytes)
        let written = body(UnsafeMutableRawBufferPointer(start: dst, count: maxBytes))
        let used = min(max(written, 0), maxBytes)
        end += used
        if used > 0 { callEnds.append(consumedTotal + count) }
        return used
    }

    mutating func consume(_ n: Int) {
        let taken = min(max(n, 0), count)
        start += taken
        consumedTotal += taken
        while callEndsHead < callEnds.count && callEnds[callEndsHead] <= consumedTotal {
            callStart = callEnds[callEndsHead]
            callEndsHead += 1
        }
        if start == end {
            start = 0
            end = 0
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
        end -= dropped
        while callEnds.count > callEndsHead, let last = callEnds.last, last > keepEnd { callEnds.removeLast() }
        if start == end {
            start = 0
            end = 0
            callEnds.removeAll(keepingCapacity: true)
            callEndsHead = 0
        }
        return dropped
    }

    /// Frees large storage once empty so idle connections stay small after a burst.
    mutating func shrinkIfEmpty() {
        if start == end && capacity > Self.retainedCapacity { release() }
    }

    mutating func release() {
        free(base)
        base = nil
        capacity = 0
        consumedTotal += count
        callStart = consumedTotal
        start = 0
        end = 0
        callEnds = []
        callEndsHead = 0
    }

    /// Ensures room for `n` more bytes at the end and returns where they go. Pending bytes are
    /// moved to the front only when the consumed space before them is at least as large as they
    /// are (so each pending byte is moved at most about once while it waits); otherwise the
    /// storage grows. Moving the whole backlog to make room for every small append was a
    /// measurable cost for a subscriber whose backlog stays large.
    private mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        let live = count
        if let base {
            if capacity - end >= n { return base + end }
            if live + n <= capacity, start >= live {
                memmove(base, base + start, live)
                start = 0
                end = live
                return base + end
            }
        }
        // Doubles even when the bytes would fit after a move: the move was declined above.
        var newCapacity = max(Self.minimumCapacity, capacity * 2)
        while newCapacity < live + n { newCapacity *= 2 }
        guard let fresh = malloc(newCapacity) else { fatalError("out of memory (\(newCapacity) bytes)") }
        if let base, live > 0 { fresh.copyMemory(from: base + start, byteCount: live) }
        free(base)
        base = fresh
        capacity = newCapacity
        start = 0
        end = live
        return fresh + end
    }
}
