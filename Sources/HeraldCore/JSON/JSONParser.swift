/// Herald's one JSON parser: strict RFC 8259 over UTF-8 bytes, producing `JSONValue`, with
/// Jackson's error texts (SNS parses filter policies with Jackson, and its "failed to parse JSON. …"
/// texts carry Jackson's message; the filter-policy layer adds that prefix).
///
/// - Rejects input longer than `Limits.maxBytes`, invalid UTF-8 (checked in one pass before
///   anything else; overlongs, surrogates and values past U+10FFFF included), truncated input,
///   trailing content, number texts longer than `Limits.maxNumberLength`, and documents nested
///   deeper than `Limits.maxDepth` (checked when a container opens, so a hostile `[[[[…` costs at
///   most `maxDepth` steps before the error).
/// - Accepts what Jackson accepts beyond that: a leading UTF-8 byte-order mark, and `\u` escapes of
///   lone surrogates (which a Swift `String` cannot hold: each becomes U+FFFD).
/// - Never recurses: containers under construction live on an explicit stack, and values are kept
///   on a flat value stack so building a large array is linear.
/// - Errors (`JSONParseError`) carry Jackson's message and the 1-based line and column (in bytes).
public struct JSONParser {
    /// Bounds on what one parse accepts.
    public struct Limits: Sendable, Hashable {
        /// Jackson's `StreamReadConstraints` default for the length of a number's text.
        public static let jacksonMaxNumberLength = 1000

        /// Most containers open at once (`[]` is depth 1); at least 1.
        public var maxDepth: Int
        /// Longest number text accepted.
        public var maxNumberLength: Int
        /// Largest input accepted, in bytes.
        public var maxBytes: Int

        public init(maxDepth: Int, maxNumberLength: Int = Limits.jacksonMaxNumberLength, maxBytes: Int = .max) {
            self.maxDepth = maxDepth
            self.maxNumberLength = maxNumberLength
            self.maxBytes = maxBytes
        }
    }

    /// Parses one JSON value filling the whole input (surrounding whitespace allowed).
    public static func parse(_ bytes: [UInt8], limits: Limits) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, limits: limits)
        return try parser.parseDocument()
    }

    public static func parse(_ text: String, limits: Limits) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limits: Limits) throws(JSONParseError) -> JSONValue {
        try parse(Array(bytes), limits: limits)
    }

    private let bytes: [UInt8]
    private let maxDepth: Int
    private let maxNumberLength: Int
    private let maxBytes: Int
    private var pos = 0

    /// An open container: where its values (and, for objects, keys) start on the flat stacks.
    private struct Frame {
        var isObject: Bool
        var valueStart: Int
        var keyStart: Int
        var openedAt: Int
    }

    private var frames: [Frame] = []
    private var values: [JSONValue] = []
    private var keys: [String] = []

    private init(bytes: [UInt8], limits: Limits) {
        self.bytes = bytes
        self.maxDepth = max(1, limits.maxDepth)
        self.maxNumberLength = limits.maxNumberLength
        self.maxBytes = limits.maxBytes
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        guard bytes.count <= maxBytes else {
            throw fail("Document length (\(bytes.count)) exceeds the maximum allowed (\(maxBytes))", at: maxBytes)
        }
        try validateUTF8()
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { pos = 3 }
        skipWhitespace()
        guard pos < bytes.count else { throw fail("No content to map due to end-of-input", at: pos) }

        var completed: JSONValue
        parsing: while true {
            // Expecting a value at `pos`.
            skipWhitespace()
            guard pos < bytes.count else { throw endOfInputInContainer() }
            switch bytes[pos] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = bytes[pos] == UInt8(ascii: "{")
                guard frames.count < maxDepth else {
                    throw fail("Document nesting depth (\(frames.count + 1)) exceeds the maximum allowed (\(maxDepth))", at: pos)
                }
                frames.append(Frame(isObject: isObject, valueStart: values.count, keyStart: keys.count, openedAt: pos))
                pos += 1
                skipWhitespace()
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if pos < bytes.count, bytes[pos] == close {
                    pos += 1
                    frames.removeLast()
                    completed = isObject ? .object([]) : .array([])
                } else {
                    if isObject { try readKeyAndColon() }
                    continue parsing
                }
            case UInt8(ascii: "\""):
                completed = .string(try readString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                completed = .number(try readNumber())
            default:
                completed = try readLiteral()
            }

            // Attach the completed value to its parent; close every container that ends here.
            while true {
                guard let frame = frames.last else { break parsing }
                values.append(completed)
                skipWhitespace()
                guard pos < bytes.count else { throw endOfInputInContainer() }
                let c = bytes[pos]
                if c == UInt8(ascii: ",") {
                    pos += 1
                    skipWhitespace()
                    if frame.isObject { try readKeyAndColon() }
                    continue parsing
                }
                if c == (frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    pos += 1
                    completed = close(frame)
                    continue
                }
                if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    let expected = frame.isObject ? "}" : "]"
                    throw fail("Unexpected close marker '\(Character(UnicodeScalar(c)))': expected '\(expected)' (for \(frame.isObject ? "Object" : "Array") starting at \(locationText(frame.openedAt)))", at: pos)
                }
                throw fail("Unexpected character (\(describeChar(at: pos))): was expecting comma to separate \(frame.isObject ? "Object" : "Array") entries", at: pos)
            }
        }

        skipWhitespace()
        if pos < bytes.count {
            throw fail("Unexpected character (\(describeChar(at: pos))): expected end-of-input after the root value", at: pos)
        }
        return completed
    }

    // MARK: - Containers

    private mutating func close(_ frame: Frame) -> JSONValue {
        frames.removeLast()
        let result: JSONValue
        if frame.isObject {
            var members: [JSONValue.Member] = []
            members.reserveCapacity(values.count - frame.valueStart)
            for (k, v) in zip(keys[frame.keyStart...], values[frame.valueStart...]) {
                members.append(JSONValue.Member(key: k, value: v))
            }
            keys.removeSubrange(frame.keyStart...)
            result = .object(members)
        } else {
            result = .array(Array(values[frame.valueStart...]))
        }
        values.removeSubrange(frame.valueStart...)
        return result
    }

    private mutating func readKeyAndColon() throws(JSONParseError) {
        guard pos < bytes.count else { throw endOfInputInContainer() }
        guard bytes[pos] == UInt8(ascii: "\"") else {
            throw fail("Unexpected character (\(describeChar(at: pos))): was expecting double-quote to start field name", at: pos)
        }
        let key = try readString()
        skipWhitespace()
        guard pos < bytes.count else { throw endOfInputInContainer() }
        guard bytes[pos] == UInt8(ascii: ":") else {
            throw fail("Unexpected character (\(describeChar(at: pos))): was expecting a colon to separate field name and value", at: pos)
        }
        pos += 1
        keys.append(key)
    }

    private func endOfInputInContainer() -> JSONParseError {
        guard let frame = frames.last else { return fail("No content to map due to end-of-input", at: pos) }
        let kind = frame.isObject ? "Object" : "Array"
        return fail("Unexpected end-of-input: expected close marker for \(kind) (start marker at \(locationText(frame.openedAt)))", at: pos)
    }

    // MARK: - Scalars

    private mutating func readString() throws(JSONParseError) -> String {
        pos += 1  // opening quote
        let start = pos
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: bytes[start..<pos], as: UTF8.self)
                pos += 1
                return s
            }
            if b == UInt8(ascii: "\\") { return try readEscapedString(from: start) }
            if b < 0x20 { throw illegalControlCharacter(b) }
            pos += 1
        }
        throw fail("Unexpected end-of-input: was expecting closing quote for a string value", at: pos)
    }

    private mutating func readEscapedString(from start: Int) throws(JSONParseError) -> String {
        var buffer = Array(bytes[start..<pos])
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                return String(decoding: buffer, as: UTF8.self)
            }
            if b < 0x20 { throw illegalControlCharacter(b) }
            guard b == UInt8(ascii: "\\") else {
                buffer.append(b)
                pos += 1
                continue
            }
            pos += 1
            guard pos < bytes.count else { break }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(e)
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(0x0A)
            case UInt8(ascii: "r"): buffer.append(0x0D)
            case UInt8(ascii: "t"): buffer.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try readHex4()
                if (0xD800...0xDBFF).contains(scalar), pos + 1 < bytes.count,
                   bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") {
                    let save = pos
                    pos += 2
                    let low = try readHex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        pos = save  // not a pair: the high surrogate stands alone
                    }
                }
                // A lone surrogate cannot live in a Swift String: it becomes U+FFFD.
                let unicode = UnicodeScalar(scalar) ?? "\u{FFFD}"
                buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw fail("Unrecognized character escape \(describeChar(at: pos - 1))", at: pos - 1)
            }
        }
        throw fail("Unexpected end-of-input: was expecting closing quote for a string value", at: pos)
    }

    private mutating func readHex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard pos < bytes.count else {
                throw fail("Unexpected end-of-input within/between String entries", at: pos)
            }
            let b = bytes[pos]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default:
                throw fail("Unexpected character (\(describeChar(at: pos))): expected a hex-digit for character escape sequence", at: pos)
            }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }

    private mutating func readNumber() throws(JSONParseError) -> String {
        let start = pos
        if bytes[pos] == UInt8(ascii: "-") {
            pos += 1
            if bytes[pos...].starts(with: "Infinity".utf8) {
                throw fail("Non-standard token '-Infinity': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow", at: pos)
            }
            guard pos < bytes.count else { throw fail("Unexpected end-of-input in a Number value", at: pos) }
            guard isDigit(bytes[pos]) else {
                throw fail("Unexpected character (\(describeChar(at: pos))) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value", at: pos)
            }
        }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count, isDigit(bytes[pos]) {
                throw fail("Invalid numeric value: Leading zeroes not allowed", at: pos)
            }
        } else {
            skipDigits()
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < bytes.count else { throw fail("Unexpected end-of-input in a Number value", at: pos) }
            guard isDigit(bytes[pos]) else {
                throw fail("Unexpected character (\(describeChar(at: pos))) in numeric value: Decimal point not followed by a digit", at: pos)
            }
            skipDigits()
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < bytes.count else { throw fail("Unexpected end-of-input in a Number value", at: pos) }
            guard isDigit(bytes[pos]) else {
                throw fail("Unexpected character (\(describeChar(at: pos))) in numeric value: Exponent indicator not followed by a digit", at: pos)
            }
            skipDigits()
        }
        let length = pos - start
        guard length <= maxNumberLength else {
            throw fail("Number value length (\(length)) exceeds the maximum allowed (\(maxNumberLength))", at: start)
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private mutating func readLiteral() throws(JSONParseError) -> JSONValue {
        let start = pos
        // Jackson reports the whole identifier-like token ('invalid' in "invalid-json"), capped.
        while pos < bytes.count, pos - start < 256, isTokenByte(bytes[pos]) { pos += 1 }
        let token = String(decoding: bytes[start..<pos], as: UTF8.self)
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        case "": throw fail("Unexpected character (\(describeChar(at: start))): expected a value", at: start)
        case "NaN", "Infinity":
            throw fail("Non-standard token '\(token)': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow", at: pos)
        default:
            throw fail("Unrecognized token '\(token)': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", at: pos)
        }
    }

    // MARK: - Bytes

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private mutating func skipDigits() {
        while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "$"), 0x80...0xFF:
            return true
        default:
            return false
        }
    }

    /// Checks the whole input is well-formed UTF-8 before any parsing work.
    private func validateUTF8() throws(JSONParseError) {
        guard let problem = bytes.withUnsafeBufferPointer({ UTF8Validation.firstProblem(in: $0) }) else { return }
        switch problem.kind {
        case .invalidStartByte(let b): throw fail("Invalid UTF-8 start byte 0x\(hex(b))", at: problem.offset)
        case .invalidMiddleByte(let c): throw fail("Invalid UTF-8 middle byte 0x\(hex(c))", at: problem.offset)
        case .truncated: throw fail("Unexpected end-of-input in the middle of a UTF-8 character", at: problem.offset)
        }
    }

    // MARK: - Errors

    private func illegalControlCharacter(_ b: UInt8) -> JSONParseError {
        fail("Illegal unquoted character ((CTRL-CHAR, code \(b))): has to be escaped using backslash to be included in string value", at: pos)
    }

    private func fail(_ message: String, at index: Int) -> JSONParseError {
        let (line, column) = location(of: index)
        return JSONParseError(message: message, offset: index, line: line, column: column)
    }

    /// The 1-based line and column (in bytes) of `index`.
    private func location(of index: Int) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for i in 0..<min(index, bytes.count) where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        return (line, index - lineStart + 1)
    }

    private func locationText(_ index: Int) -> String {
        let (line, column) = location(of: index)
        return JSONParseError.jacksonLocation(line: line, column: column)
    }

    /// Jackson's character description: `'x' (code 120)`, `(CTRL-CHAR, code 10)`, or with a hex
    /// code for characters past U+00FF.
    private func describeChar(at index: Int) -> String {
        guard index < bytes.count else { return "end-of-input" }
        var iterator = bytes[index...].makeIterator()
        var decoder = UTF8()
        let scalar: UnicodeScalar
        switch decoder.decode(&iterator) {
        case .scalarValue(let s): scalar = s
        default: return "(CTRL-CHAR, code \(bytes[index]))"
        }
        let code = scalar.value
        if code < 0x20 || (0x7F...0x9F).contains(code) { return "(CTRL-CHAR, code \(code))" }
        if code > 0xFF { return "'\(Character(scalar))' (code \(code) / 0x\(String(code, radix: 16)))" }
        return "'\(Character(scalar))' (code \(code))"
    }

    private func hex(_ b: UInt8) -> String {
        let s = String(b, radix: 16)
        return s.count == 1 ? "0" + s : s
    }
}
