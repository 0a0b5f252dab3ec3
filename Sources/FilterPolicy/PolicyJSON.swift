/// A JSON value as the filter-policy language needs it: object members keep their order (and any
/// duplicates), numbers keep their exact source text (SNS error texts echo it, e.g.
/// "Invalid member in numeric match: 1.50"). Produced by `PolicyJSON.parse`, which serves both
/// policies and message bodies.
public enum PolicyJSON: Sendable, Hashable {
    case object([Member])
    case array([PolicyJSON])
    case string(String)
    /// The number exactly as written (already checked against the JSON number grammar).
    case number(String)
    case bool(Bool)
    case null

    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: PolicyJSON

        public init(key: String, value: PolicyJSON) {
            self.key = key
            self.value = value
        }
    }

    /// The first member named `key`, if any (lookup helper for fixtures and the CLI).
    public subscript(key: String) -> PolicyJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Containers nested in this value (a scalar is 0, `[]` is 1), computed without recursion.
    public var nestingDepth: Int {
        var deepest = 0
        var stack: [(PolicyJSON, Int)] = [(self, 0)]
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

    /// Compact JSON text that re-parses to an equal value (member order and number text kept).
    /// Iterative, so a deep value cannot exhaust the stack.
    public var jsonText: String {
        var out = ""
        // Work items: a value to write, or a literal piece of punctuation.
        enum Item { case value(PolicyJSON), text(String) }
        var stack: [Item] = [.value(self)]
        while let item = stack.popLast() {
            switch item {
            case .text(let t):
                out += t
            case .value(let v):
                switch v {
                case .null: out += "null"
                case .bool(let b): out += b ? "true" : "false"
                case .number(let t): out += t
                case .string(let s): out += PolicyJSON.quoted(s)
                case .array(let elements):
                    out += "["
                    stack.append(.text("]"))
                    for (i, e) in elements.enumerated().reversed() {
                        stack.append(.value(e))
                        if i > 0 { stack.append(.text(",")) }
                    }
                case .object(let members):
                    out += "{"
                    stack.append(.text("}"))
                    for (i, m) in members.enumerated().reversed() {
                        stack.append(.value(m.value))
                        stack.append(.text(PolicyJSON.quoted(m.key) + ":"))
                        if i > 0 { stack.append(.text(",")) }
                    }
                }
            }
        }
        return out
    }

    /// `s` as a JSON string literal (quotes, backslashes and control characters escaped).
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
