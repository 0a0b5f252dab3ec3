/// Herald's one JSON model (RFC 8259), used by filter policies and message bodies (FilterPolicy),
/// `String.Array` attribute values (`MessageValidator`), the stream protocol's INFO/CONNECT/CONNOK
/// lines (HeraldWire) and the CLI. `JSONParser` reads it; `write(to:)`/`text` write it.
///
/// - Numbers keep their source text exactly (nothing is lost to Double rounding, and SNS error texts
///   echo it, e.g. "Invalid member in numeric match: 1.50").
/// - Object members keep their source order and every duplicate; `subscript(key)` returns the last
///   member of that name, as Jackson's tree model does.
/// - Writing and `nestingDepth` never recurse, so a deep value cannot exhaust the stack.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's text exactly as written (already checked against the JSON number grammar).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in source order, duplicates kept.
    case object([Member])

    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value of the last member named `key`, if this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    /// Containers nested in this value (a scalar is 0, `[]` is 1), computed without recursion.
    public var nestingDepth: Int {
        var deepest = 0
        var stack: [(JSONValue, Int)] = [(self, 0)]
        while let (value, depth) = stack.popLast() {
            switch value {
            case .array(let elements):
                deepest = max(deepest, depth + 1)
                for e in elements { stack.append((e, depth + 1)) }
            case .object(let members):
                deepest = max(deepest, depth + 1)
                for m in members { stack.append((m.value, depth + 1)) }
            default:
                break
            }
        }
        return deepest
    }

    // MARK: - Writing

    /// Compact JSON text that re-parses to an equal value (member order and number text kept).
    public var text: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact JSON text of this value (no whitespace, `/` not escaped, non-ASCII raw).
    /// Iterative, so a deep value cannot exhaust the stack.
    public func write(to out: inout [UInt8]) {
        // Work items: a value to write, a member key, or one byte of punctuation.
        enum Item { case value(JSONValue), key(String), byte(UInt8) }
        var stack: [Item] = [.value(self)]
        while let item = stack.popLast() {
            switch item {
            case .byte(let b):
                out.append(b)
            case .key(let k):
                JSONValue.writeString(k, to: &out)
                out.append(UInt8(ascii: ":"))
            case .value(let v):
                switch v {
                case .null: out.append(contentsOf: "null".utf8)
                case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
                case .number(let t): out.append(contentsOf: t.utf8)
                case .string(let s): JSONValue.writeString(s, to: &out)
                case .array(let elements):
                    out.append(UInt8(ascii: "["))
                    stack.append(.byte(UInt8(ascii: "]")))
                    for (i, e) in elements.enumerated().reversed() {
                        stack.append(.value(e))
                        if i > 0 { stack.append(.byte(UInt8(ascii: ","))) }
                    }
                case .object(let members):
                    out.append(UInt8(ascii: "{"))
                    stack.append(.byte(UInt8(ascii: "}")))
                    for (i, m) in members.enumerated().reversed() {
                        stack.append(.value(m.value))
                        stack.append(.key(m.key))
                        if i > 0 { stack.append(.byte(UInt8(ascii: ","))) }
                    }
                }
            }
        }
    }

    /// `s` as a JSON string literal (see `writeString`).
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        writeString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` as a JSON string literal: quote and backslash escaped, control characters as
    /// `\b`, `\f`, `\n`, `\r`, `\t` (the short forms, as AWS writes SNS envelopes) or `\u00xx`, so
    /// the output never contains a raw CR or LF.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                hex.withUTF8Buffer { digits in
                    out.append(digits[Int(byte >> 4)])
                    out.append(digits[Int(byte & 0x0F)])
                }
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
