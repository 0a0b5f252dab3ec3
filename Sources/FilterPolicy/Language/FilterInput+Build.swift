import HeraldCore

/// Reducing a message to the (path, value) fields filtering sees (contract rules 1 and 2).
extension FilterInput {
    /// Nesting bound for message bodies and String.Array values: deeper JSON is not matchable.
    public static let maxBodyNestingDepth = 256

    /// MessageAttributes scope: String → `.string`; Number → `.number(Double(text))` (unparseable →
    /// no field); exactly `String.Array` → one field per scalar element of the JSON array (nested
    /// arrays/objects skipped; not a JSON array → no field); Binary → no field. `isEmpty` is true
    /// only when the message has no attributes at all (Binary ones count).
    public static func attributes(_ attributes: MessageAttributes) -> FilterInput {
        var fields: [(path: String, value: FilterValue)] = []
        for name in attributes.keys.sorted() {
            guard let attribute = attributes[name], let text = attribute.stringValue else { continue }
            switch attribute.filterKind {
            case .string:
                fields.append((name, .string(text)))
            case .number:
                if let d = Double(text) { fields.append((name, .number(FilterNumber.canonical(d)))) }
            case .stringArray:
                guard let json = try? JSONParser.parse(Array(text.utf8), limits: JSONParser.Limits(maxDepth: maxBodyNestingDepth)),
                      case .array(let elements) = json else { continue }
                for element in elements {
                    if let value = scalar(element) { fields.append((name, value)) }
                }
            case .binary:
                continue
            }
        }
        return FilterInput(fields: fields, isEmpty: attributes.isEmpty)
    }

    /// MessageBody scope: the body must be a JSON object (else nothing matches). Every leaf is a
    /// field at its dotted key path; arrays are flattened into their parent's path; empty
    /// arrays/objects give nothing; duplicate keys all count.
    public static func body(_ bytes: [UInt8]) -> FilterInput {
        guard let json = try? JSONParser.parse(bytes, limits: JSONParser.Limits(maxDepth: maxBodyNestingDepth)),
              case .object(let members) = json else {
            return FilterInput(fields: [], isEmpty: false, isMatchable: false)
        }
        var fields: [(path: String, value: FilterValue)] = []
        // Explicit stack (reversed pushes keep document order in the output).
        var stack: [(path: String, value: JSONValue)] = members.reversed().map { ($0.key, $0.value) }
        while let (path, value) = stack.popLast() {
            switch value {
            case .object(let inner):
                for m in inner.reversed() { stack.append((path + "." + m.key, m.value)) }
            case .array(let elements):
                for e in elements.reversed() { stack.append((path, e)) }
            default:
                if let v = scalar(value) { fields.append((path, v)) }
            }
        }
        return FilterInput(fields: fields, isEmpty: false)
    }

    public static func body(_ text: String) -> FilterInput { body(Array(text.utf8)) }

    /// A JSON scalar as a filter value; numbers become Double (overflow → ±infinity).
    static func scalar(_ json: JSONValue) -> FilterValue? {
        switch json {
        case .string(let s): return .string(s)
        case .number(let t): return Double(t).map { .number(FilterNumber.canonical($0)) }
        case .bool(let b): return .boolean(b)
        case .null: return .null
        case .array, .object: return nil
        }
    }
}
