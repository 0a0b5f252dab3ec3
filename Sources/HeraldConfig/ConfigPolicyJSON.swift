import FilterPolicy
import HeraldCore
import Yams

/// Turns an inline `filterPolicy:` written as a YAML mapping into the JSON text the filter-policy
/// parser reads, so inline and file policies go through exactly the same validation.
/// Plain scalars are typed as JSON would type them (`true`, `null`, `42`); quoted ones are strings.
enum ConfigPolicyJSON {
    struct TooLarge: Error {}

    /// JSON text of `node`, or `TooLarge` once the output passes `maxBytes` (aliases can make a
    /// small YAML file expand enormously; this bounds the work).
    static func json(from node: Node, maxBytes: Int) -> Result<String, TooLarge> {
        var writer = Writer(budget: maxBytes)
        writer.write(node)
        return writer.overflowed ? .failure(TooLarge()) : .success(writer.output)
    }

    struct Writer {
        var output = ""
        var budget: Int
        var overflowed = false

        init(budget: Int) {
            self.budget = budget
        }

        mutating func append(_ text: String) {
            guard !overflowed else { return }
            budget -= text.utf8.count
            if budget < 0 { overflowed = true } else { output += text }
        }

        mutating func write(_ node: Node) {
            guard !overflowed else { return }
            switch node {
            case .mapping(let mapping):
                append("{")
                for (index, pair) in mapping.enumerated() {
                    if index > 0 { append(",") }
                    // Keys are always strings in JSON.
                    if case .scalar(let key) = pair.key { append(JSONValue.quoted(key.string)) } else { write(pair.key) }
                    append(":")
                    write(pair.value)
                    if overflowed { return }
                }
                append("}")
            case .sequence(let sequence):
                append("[")
                for (index, item) in sequence.enumerated() {
                    if index > 0 { append(",") }
                    write(item)
                    if overflowed { return }
                }
                append("]")
            case .scalar(let scalar):
                append(Self.scalarJSON(scalar))
            case .alias:
                // Yams resolves aliases while composing; an unresolved one has no value.
                append("null")
            }
        }

        static func scalarJSON(_ scalar: Node.Scalar) -> String {
            let text = scalar.string
            guard scalar.style == .plain else { return JSONValue.quoted(text) }
            switch text {
            case "", "~", "null", "Null", "NULL": return "null"
            case "true", "True", "TRUE": return "true"
            case "false", "False", "FALSE": return "false"
            default: return isJSONNumber(text) ? text : JSONValue.quoted(text)
            }
        }

        /// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        static func isJSONNumber(_ text: String) -> Bool {
            var bytes = Substring(text).utf8[...]
            func digits() -> Int {
                let count = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
                bytes = bytes.dropFirst(count)
                return count
            }
            if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            if bytes.first == UInt8(ascii: "0") {
                bytes = bytes.dropFirst()
            } else if digits() == 0 {
                return false
            }
            if bytes.first == UInt8(ascii: ".") {
                bytes = bytes.dropFirst()
                if digits() == 0 { return false }
            }
            if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
                bytes = bytes.dropFirst()
                if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
                if digits() == 0 { return false }
            }
            return bytes.isEmpty
        }
    }
}
