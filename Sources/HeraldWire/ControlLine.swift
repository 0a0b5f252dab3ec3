import HeraldCore

/// Tokens of one control line: fields separated by runs of spaces or tabs. Yields index ranges into
/// the decoder's buffer, so tokenising allocates nothing. It borrows the buffer's storage through a
/// pointer (no reference counting or bounds-check overhead per byte) and so must not outlive the
/// `withUnsafeBufferPointer` call that created it.
struct ControlLine {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int
    let end: Int
    /// Stream offset of the line start, for errors.
    let offset: Int

    init(bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>, offset: Int) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.offset = offset
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    mutating func skipSpaces() {
        while position < end, Self.isSpace(bytes[position]) { position += 1 }
    }

    /// The next field, or nil at the end of the line.
    mutating func next() -> Range<Int>? {
        skipSpaces()
        guard position < end else { return nil }
        let start = position
        while position < end, !Self.isSpace(bytes[position]) { position += 1 }
        return start..<position
    }

    /// Everything after the next run of spaces to the end of the line (possibly empty).
    mutating func rest() -> Range<Int> {
        skipSpaces()
        defer { position = end }
        return position..<end
    }

    func error(_ code: WireError.Code, _ message: String, fatal: Bool = true, reference: ErrorReference = .none) -> WireError {
        WireError(code, message, isFatal: fatal, reference: reference, offset: offset)
    }

    /// Records a non-fatal field error unless an earlier one was recorded (the first one is reported).
    /// `message` is an autoclosure so the success path builds no strings.
    func keepFirst(_ deferred: inout WireError?, _ reference: ErrorReference, _ code: WireError.Code, _ message: @autoclosure () -> String) {
        if deferred == nil { deferred = error(code, message(), fatal: false, reference: reference) }
    }

    func keepFirst(_ deferred: inout DeferredError, _ reference: ErrorReference, _ code: WireError.Code, _ message: @autoclosure () -> String) {
        if deferred.error == nil { deferred = DeferredError(error(code, message(), fatal: false, reference: reference)) }
    }

    mutating func required(_ what: String, verb: String, fatal: Bool = true, reference: ErrorReference = .none) throws(WireError) -> Range<Int> {
        guard let token = next() else {
            throw error(.malformedLine, "\(verb) is missing its \(what)", fatal: fatal, reference: reference)
        }
        return token
    }

    func expectEnd(verb: String, reference: ErrorReference = .none) throws(WireError) {
        var copy = self
        if copy.next() != nil {
            throw error(.malformedLine, "\(verb) has unexpected extra fields", fatal: false, reference: reference)
        }
    }

    /// Whether `token` equals `word` ignoring ASCII case (verbs are case-insensitive for hand typing).
    func equalsIgnoringCase(_ token: Range<Int>, _ word: StaticString) -> Bool {
        guard token.count == word.utf8CodeUnitCount else { return false }
        let pointer = word.utf8Start
        for i in 0..<token.count {
            var byte = bytes[token.lowerBound + i]
            if byte >= 0x61 && byte <= 0x7A { byte -= 0x20 }
            if byte != pointer[i] { return false }
        }
        return true
    }

    func equals(_ token: Range<Int>, _ word: StaticString) -> Bool {
        guard token.count == word.utf8CodeUnitCount else { return false }
        let pointer = word.utf8Start
        for i in 0..<token.count where bytes[token.lowerBound + i] != pointer[i] { return false }
        return true
    }

    /// Decimal digits only (no sign, no spaces), overflow-checked.
    func uint64(_ token: Range<Int>, _ what: String, fatal: Bool = true, reference: ErrorReference = .none) throws(WireError) -> UInt64 {
        guard let value = Self.parseUInt64(bytes, token) else {
            let shown = snippet(token)
            throw error(.invalidNumber, "\(what) '\(shown)' is not a decimal number in 0...\(UInt64.max)", fatal: fatal, reference: reference)
        }
        return value
    }

    static func parseUInt64(_ bytes: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> UInt64? {
        guard !token.isEmpty, token.count <= 20 else { return nil }
        var value: UInt64 = 0
        for index in token {
            let byte = bytes[index]
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }

    /// A section length, checked against `limit` before anything is buffered.
    func length(_ token: Range<Int>, _ what: String, limit: Int) throws(WireError) -> Int {
        let value = try uint64(token, what)
        guard value <= UInt64(limit) else {
            throw error(.frameTooLarge, "\(what) \(value) exceeds the limit of \(limit) bytes")
        }
        return Int(value)
    }

    func string(_ token: Range<Int>) -> String { String(decoding: slice(token), as: UTF8.self) }

    /// The bytes of `token` as a buffer of their own (indices from 0).
    func slice(_ token: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[token]) }

    /// The first bytes of a token, for quoting in an error message.
    func snippet(_ token: Range<Int>) -> String { String(decoding: slice(token).prefix(32), as: UTF8.self) }

    func isTopic(_ token: Range<Int>) -> Bool { TopicName.isValid(utf8: slice(token)) }

    /// FIFO group / deduplication ids (SQS rule): 1–128 printable ASCII characters; spaces cannot occur
    /// inside a token.
    func isFIFOIdentifier(_ token: Range<Int>) -> Bool {
        guard (1...128).contains(token.count) else { return false }
        return bytes[token].allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// Message ids: 1–128 of `A-Z a-z 0-9 - _ .`.
    func isMessageID(_ token: Range<Int>) -> Bool {
        guard (1...128).contains(token.count) else { return false }
        return bytes[token].allSatisfy { TopicName.isNameByte($0) || $0 == 0x2E }
    }

    /// Configuration subscription names: 1–256 of `A-Z a-z 0-9 - _ .` (docs/CONFIG.md).
    func isSubscriptionName(_ token: Range<Int>) -> Bool {
        guard (1...256).contains(token.count) else { return false }
        return bytes[token].allSatisfy { TopicName.isNameByte($0) || $0 == 0x2E }
    }

    /// QREQ action names: 1–64 ASCII letters and digits (`QueueAction`).
    func isQueueAction(_ token: Range<Int>) -> Bool {
        guard (1...QueueAction.maxLength).contains(token.count) else { return false }
        return bytes[token].allSatisfy(QueueAction.isActionByte)
    }

    /// Splits `key=value`; returns the value range if the key matches.
    func optionValue(_ token: Range<Int>, key: StaticString) -> Range<Int>? {
        let keyLength = key.utf8CodeUnitCount
        guard token.count > keyLength, bytes[token.lowerBound + keyLength] == UInt8(ascii: "="),
            equals(token.lowerBound..<(token.lowerBound + keyLength), key)
        else { return nil }
        return (token.lowerBound + keyLength + 1)..<token.upperBound
    }
}
