/// A small, strict JSON (RFC 8259) reader and writer for the few places the pure modules need one:
/// `String.Array` attribute values and the JSON of the stream protocol's INFO/CONNECT lines.
/// Numbers keep their source text (so nothing is lost to Double rounding); nesting depth is bounded
/// so hostile input cannot exhaust the stack.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's text exactly as written (already checked against the JSON number grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in source order. Duplicate keys are kept; `member(_:)` returns the last, as most readers do.
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .number(let n): hasher.combine(2); hasher.combine(n)
        case .string(let s): hasher.combine(3); hasher.combine(s)
        case .array(let a): hasher.combine(4); hasher.combine(a)
        case .object(let members):
            hasher.combine(5)
            for member in members { hasher.combine(member.key); hasher.combine(member.value) }
        }
    }

    /// The value of the last member named `key`, if this is an object.
    public func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// Why a text is not JSON: a short reason and the byte offset where it was noticed.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        public var offset: Int
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Parses one JSON value filling the whole input (surrounding whitespace allowed).
    public static func parse<C: Collection<UInt8>>(utf8: C, maxDepth: Int = 64) throws(ParseError) -> JSONValue
    where C.Index == Int {
        var reader = JSONReader(bytes: utf8, maxDepth: maxDepth)
        reader.skipWhitespace()
        let value = try reader.readValue(depth: 0)
        reader.skipWhitespace()
        guard reader.position == utf8.endIndex else { throw reader.error("unexpected text after the value") }
        return value
    }

    public static func parse(_ text: String, maxDepth: Int = 64) throws(ParseError) -> JSONValue {
        try parse(utf8: Array(text.utf8), maxDepth: maxDepth)
    }

    /// Appends the compact JSON text of this value (no whitespace, `/` not escaped, non-ASCII raw).
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    public var text: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal; control characters become escapes, so the output never
    /// contains a raw CR or LF.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Recursive-descent reader behind `JSONValue.parse`. Recursion depth is bounded by `maxDepth`.
struct JSONReader<C: Collection<UInt8>> where C.Index == Int {
    let bytes: C
    let maxDepth: Int
    var position: Int

    init(bytes: C, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.position = bytes.startIndex
    }

    func error(_ reason: String) -> JSONValue.ParseError {
        JSONValue.ParseError(reason: reason, offset: position - bytes.startIndex)
    }

    var atEnd: Bool { position >= bytes.endIndex }
    var current: UInt8 { bytes[position] }

    mutating func skipWhitespace() {
        while !atEnd, current == 0x20 || current == 0x0A || current == 0x0D || current == 0x09 { position += 1 }
    }

    mutating func readValue(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        guard !atEnd else { throw error("unexpected end of input") }
        switch current {
        case UInt8(ascii: "{"): return try readObject(depth: depth + 1)
        case UInt8(ascii: "["): return try readArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try readNumber())
        default: throw error("unexpected character")
        }
    }

    mutating func expectWord(_ word: StaticString) throws(JSONValue.ParseError) {
        let utf8 = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for expected in utf8 {
            guard !atEnd, current == expected else { throw error("invalid literal") }
            position += 1
        }
    }

    mutating func readObject(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting too deep") }
        position += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if !atEnd, current == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard !atEnd, current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try readString()
            skipWhitespace()
            guard !atEnd, current == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipWhitespace()
            let value = try readValue(depth: depth)
            members.append((key, value))
            skipWhitespace()
            guard !atEnd else { throw error("unexpected end of input") }
            if current == UInt8(ascii: ",") { position += 1; continue }
            if current == UInt8(ascii: "}") { position += 1; return .object(members) }
            throw error("expected ',' or '}'")
        }
    }

    mutating func readArray(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting too deep") }
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if !atEnd, current == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try readValue(depth: depth))
            skipWhitespace()
            guard !atEnd else { throw error("unexpected end of input") }
            if current == UInt8(ascii: ",") { position += 1; continue }
            if current == UInt8(ascii: "]") { position += 1; return .array(items) }
            throw error("expected ',' or ']'")
        }
    }

    mutating func readNumber() throws(JSONValue.ParseError) -> String {
        let start = position
        if current == UInt8(ascii: "-") { position += 1 }
        guard !atEnd, isDigit(current) else { throw error("invalid number") }
        if current == UInt8(ascii: "0") {
            position += 1
        } else {
            while !atEnd, isDigit(current) { position += 1 }
        }
        if !atEnd, current == UInt8(ascii: ".") {
            position += 1
            guard !atEnd, isDigit(current) else { throw error("invalid number") }
            while !atEnd, isDigit(current) { position += 1 }
        }
        if !atEnd, current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if !atEnd, current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard !atEnd, isDigit(current) else { throw error("invalid number") }
            while !atEnd, isDigit(current) { position += 1 }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    mutating func readString() throws(JSONValue.ParseError) -> String {
        position += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard !atEnd else { throw error("unterminated string") }
            let byte = current
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw error("string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                guard !atEnd else { throw error("unterminated string") }
                let escape = current
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): try appendUnicodeEscape(to: &out)
                default: throw error("invalid escape")
                }
            case 0..<0x20:
                throw error("control character in string")
            default:
                out.append(byte)
            }
        }
    }

    mutating func readHex4() throws(JSONValue.ParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard !atEnd else { throw error("invalid \\u escape") }
            let byte = current
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    mutating func appendUnicodeEscape(to out: inout [UInt8]) throws(JSONValue.ParseError) {
        var scalarValue = try readHex4()
        if scalarValue >= 0xD800, scalarValue < 0xDC00 {
            // A high surrogate must be followed by an escaped low surrogate.
            guard position + 1 < bytes.endIndex, bytes[position] == UInt8(ascii: "\\"),
                bytes[position + 1] == UInt8(ascii: "u")
            else { throw error("unpaired surrogate") }
            position += 2
            let low = try readHex4()
            guard low >= 0xDC00, low < 0xE000 else { throw error("unpaired surrogate") }
            scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
        } else if scalarValue >= 0xDC00, scalarValue < 0xE000 {
            throw error("unpaired surrogate")
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw error("invalid \\u escape") }
        out.append(contentsOf: String(Character(scalar)).utf8)
    }
}
