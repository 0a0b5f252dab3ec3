// OutputBuffer: the growable outbound byte queue of one connection. Bytes are appended at the end and
// consumed from the front as SSL_write/send succeed; storage is reused, compacted in place, and
// released after a large burst drains, so steady-state writes allocate nothing.
// The pending region may move (compaction/growth): TLSContext sets SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
// and a retried SSL_write always starts with the same bytes and a length that only grows.
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

    static let minimumCapacity = 16 << 10
    /// Storage above this size is freed once empty.
    static let retainedCapacity = 256 << 10

    var count: Int { end - start }
    var isEmpty: Bool { start == end }

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
    }

    /// Lets `body` write up to `maxBytes` in place; it returns how many it wrote.
    mutating func append(maxBytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        guard maxBytes > 0 else { return 0 }
        let dst = reserve(maxBytes)
        let written = body(UnsafeMutableRawBufferPointer(start: dst, count: maxBytes))
        let used = min(max(written, 0), maxBytes)
        end += used
        return used
    }

    mutating func consume(_ n: Int) {
        start += min(n, count)
        if start == end {
            start = 0
            end = 0
        }
    }

    /// Frees large storage once empty so idle connections stay small after a burst.
    mutating func shrinkIfEmpty() {
        if start == end && capacity > Self.retainedCapacity { release() }
    }

    mutating func release() {
        free(base)
        base = nil
        capacity = 0
        start = 0
        end = 0
    }

    /// Ensures room for `n` more bytes at the end and returns where they go.
    private mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        let live = count
        if let base {
            if capacity - end >= n { return base + end }
            if live + n <= capacity {
                memmove(base, base + start, live)
                start = 0
                end = live
                return base + end
            }
        }
        var newCapacity = max(Self.minimumCapacity, capacity)
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
