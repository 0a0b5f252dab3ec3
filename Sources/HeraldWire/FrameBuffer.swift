#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The byte buffer behind both frame decoders: it accumulates fed bytes, finds control lines and
/// hands out a frame's sections once they are complete. It never reserves memory for a declared
/// length; it only holds bytes the caller already fed.
///
/// Indices (`readIndex`, `scanIndex`) point into `bytes`; `base` is the stream offset of `bytes[0]`,
/// so errors can report a stream offset that does not depend on how the input was chunked.
struct FrameBuffer: Sendable {
    var bytes: [UInt8] = []
    /// First byte not yet consumed.
    var readIndex = 0
    /// Where the search for the next LF resumes (bytes before it hold no LF of the current line).
    var scanIndex = 0
    var base = 0

    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D

    var unconsumedCount: Int { bytes.count - readIndex }

    func streamOffset(_ index: Int) -> Int { base + index }

    mutating func append(_ chunk: ArraySlice<UInt8>) {
        compact()
        bytes.append(contentsOf: chunk)
    }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        compact()
        bytes.append(contentsOf: chunk)
    }

    /// Drops consumed bytes: all of them when everything was consumed (the common case: no copy),
    /// otherwise only once they are the larger half, so compaction is amortised O(1) per byte.
    mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == bytes.count {
            base += readIndex
            bytes.removeAll(keepingCapacity: true)
            readIndex = 0
            scanIndex = 0
        } else if readIndex >= 4096, readIndex * 2 >= bytes.count {
            base += readIndex
            bytes.removeSubrange(0..<readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
    }

    /// The next control line's content (without CR LF), consuming it; nil until a whole line is here.
    /// A line longer than `maxLength` bytes (counting its line end) is an error as soon as that many
    /// bytes arrived without a LF, or when its LF arrives, so the outcome never depends on chunking.
    mutating func nextLine(maxLength: Int) throws(WireError) -> Range<Int>? {
        let limit = min(bytes.count, readIndex + maxLength)
        let from = max(scanIndex, readIndex)
        // memchr, not a byte loop: every frame's line is searched (a byte loop showed per PUB).
        let found: Int? = from < limit ? bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, let hit = memchr(base + from, Int32(Self.lf), limit - from) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        } : nil
        if let index = found {
            let start = readIndex
            var end = index
            if end > start, bytes[end - 1] == Self.cr { end -= 1 }
            readIndex = index + 1
            scanIndex = readIndex
            return start..<end
        }
        scanIndex = max(from, limit)
        if bytes.count - readIndex >= maxLength {
            throw WireError(.lineTooLong, "control line longer than \(maxLength) bytes", offset: streamOffset(readIndex))
        }
        return nil
    }

    /// Once `length` section bytes and the line end after them are buffered, consumes them and returns
    /// the index of the first section byte; nil while they are incomplete.
    mutating func takeSections(length: Int) throws(WireError) -> Int? {
        let start = readIndex
        let end = start + length
        guard end < bytes.count else { return nil }
        let terminatorLength: Int
        if bytes[end] == Self.lf {
            terminatorLength = 1
        } else if bytes[end] == Self.cr {
            guard end + 1 < bytes.count else { return nil }
            guard bytes[end + 1] == Self.lf else {
                throw WireError(.missingTerminator, "expected CRLF after \(length) section bytes", offset: streamOffset(end))
            }
            terminatorLength = 2
        } else {
            throw WireError(.missingTerminator, "expected CRLF after \(length) section bytes", offset: streamOffset(end))
        }
        readIndex = end + terminatorLength
        scanIndex = readIndex
        return start
    }
}

/// What both incremental decoders (`ClientFrameDecoder`, `ServerFrameDecoder`) share around their
/// own parsers: the received bytes, the failure that ends a broken stream (after a fatal error the
/// decoder stays failed), control lines handed to the parser in place, and the end-of-input check.
struct DecoderInput: Sendable {
    var buffer = FrameBuffer()
    var failure: WireError?
    /// Handed to the parser with each line (the client decoder's PUB topics; others ignore it).
    var topics = TopicCache()

    mutating func append(_ bytes: ArraySlice<UInt8>) { buffer.append(bytes) }
    mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer.append(bytes) }

    /// Throws the failure that ended the stream, if any.
    func checkFailure() throws(WireError) {
        if let failure { throw failure }
    }

    /// Remembers `error` when it is fatal (the stream cannot be trusted any more) and returns it.
    mutating func record(_ error: WireError) -> WireError {
        if error.isFatal { failure = error }
        return error
    }

    /// The next non-blank control line, parsed in place by `parse`; nil when no whole line is
    /// buffered yet.
    mutating func nextLine<Result>(
        limits: WireLimits, _ parse: (inout ControlLine, WireLimits, inout TopicCache) throws(WireError) -> Result
    ) throws(WireError) -> Result? {
        while true {
            guard let range = try buffer.nextLine(maxLength: limits.maxControlLineBytes) else { return nil }
            if range.isEmpty { continue }  // blank lines are ignored (hand typing)
            let offset = buffer.streamOffset(range.lowerBound)
            return try buffer.bytes.withUnsafeBufferPointer { (bytes) throws(WireError) -> Result in
                var line = ControlLine(bytes: bytes, range: range, offset: offset)
                return try parse(&line, limits, &topics)
            }
        }
    }

    /// At end of input: throws `truncated` when a partial frame is buffered.
    func finish(framePending: Bool) throws(WireError) {
        try checkFailure()
        if framePending || buffer.unconsumedCount > 0 {
            throw WireError(.truncated, "input ended inside a frame (\(buffer.unconsumedCount) bytes pending)", offset: buffer.streamOffset(buffer.readIndex))
        }
    }
}
