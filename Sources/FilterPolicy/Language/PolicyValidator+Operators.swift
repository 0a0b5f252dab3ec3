import HeraldCore

/// Operator objects (`{"prefix": …}`, `{"numeric": […]}`, …), checked in Event Ruler's order with
/// its texts, restricted to what SNS accepts (no `wildcard`, no anything-but suffix/ignore-case).
extension PolicyValidator {
    func matchExpression(_ members: [JSONValue.Member]) throws(FilterPolicyError) -> Condition {
        guard let first = members.first else { throw invalid("Match expression name not found") }
        let onlyOneKey = members.count == 1
        switch first.key {
        case "prefix", "suffix", "equals-ignore-case":
            guard case .string(let s) = first.value else {
                throw invalid("\(first.key) match pattern must be a string")
            }
            guard onlyOneKey else { throw invalid("Only one key allowed in match expression") }
            switch first.key {
            case "prefix": return .prefix(s)
            case "suffix": return .suffix(s)
            default: return .equalsIgnoreCase(s)
            }
        case "numeric":
            guard case .array(let elements) = first.value else {
                throw invalid("Value of numeric must be an array.")
            }
            let range = try numericRange(elements)
            guard onlyOneKey else { throw invalid("Too many elements in numeric expression") }
            return .numeric(range)
        case "anything-but":
            return try anythingBut(first.value, onlyOneKey: onlyOneKey)
        case "exists":
            guard case .bool(let b) = first.value else {
                throw invalid("exists match pattern must be either true or false.")
            }
            guard onlyOneKey else { throw invalid("Only one key allowed in match expression") }
            return .exists(b)
        case "cidr":
            // Event Ruler's (and SNS's) text for a non-string cidr operand names `prefix`.
            guard case .string(let s) = first.value else {
                throw invalid("prefix match pattern must be a string")
            }
            let block = try CIDRBlock.parse(s)
            guard onlyOneKey else { throw invalid("Only one key allowed in match expression") }
            return .cidr(block)
        default:
            // Includes `wildcard` and Ruler's `exactly`, which SNS does not offer.
            throw invalid("Unrecognized match type \(first.key)")
        }
    }

    /// SNS §1.3.8 grammar: `[op, n]` or `[">"|">=", n, "<"|"<=", m]`.
    func numericRange(_ e: [JSONValue]) throws(FilterPolicyError) -> NumericRange {
        guard let first = e.first, case .string(let op) = first else {
            throw invalid("Invalid member in numeric match: \(Self.tokenText(e.first))")
        }
        guard ["=", "<", "<=", ">", ">="].contains(op) else {
            throw invalid("Unrecognized numeric range operator: \(op)")
        }
        guard e.count > 1, case .number(let text) = e[1] else {
            throw invalid("Value of \(op == "=" ? "equals" : op) must be numeric")
        }
        let value = try Self.finiteNumber(text)
        switch op {
        case "=", "<", "<=":
            guard e.count == 2 else { throw invalid("Too many elements in numeric expression") }
            switch op {
            case "=": return .equals(value)
            case "<": return NumericRange(lower: nil, lowerInclusive: false, upper: value, upperInclusive: false)
            default: return NumericRange(lower: nil, lowerInclusive: false, upper: value, upperInclusive: true)
            }
        default:
            let lowerInclusive = op == ">="
            if e.count == 2 {
                return NumericRange(lower: value, lowerInclusive: lowerInclusive, upper: nil, upperInclusive: false)
            }
            guard case .string(let op2) = e[2] else {
                throw invalid("Bad value in numeric range: \(Self.tokenText(e[2]))")
            }
            guard op2 == "<" || op2 == "<=" else { throw invalid("Bad numeric range operator: \(op2)") }
            guard e.count > 3, case .number(let text2) = e[3] else {
                throw invalid("Value of \(op2) must be numeric")
            }
            let top = try Self.finiteNumber(text2)
            // Event Ruler checks the array's end before building the range.
            guard e.count == 4 else { throw invalid("Too many terms in numeric range expression") }
            guard value < top else { throw invalid("Bottom must be less than top") }
            return NumericRange(lower: value, lowerInclusive: lowerInclusive, upper: top, upperInclusive: op2 == "<=")
        }
    }

    /// `anything-but`: a string, a number, a list of strings or of numbers, or `{"prefix": s}`.
    func anythingBut(_ operand: JSONValue, onlyOneKey: Bool) throws(FilterPolicyError) -> Condition {
        let result: AnythingBut
        switch operand {
        case .object(let inner):
            guard let op = inner.first else { throw invalid("Anything-But expression name not found") }
            guard op.key == "prefix" else { throw invalid("Unsupported anything-but pattern: \(op.key)") }
            guard case .string(let p) = op.value else { throw invalid("prefix match pattern must be a string") }
            guard !p.isEmpty else { throw invalid("Null prefix not allowed") }
            guard inner.count == 1, onlyOneKey else { throw invalid("Only one key allowed in match expression") }
            return .anythingBut(.prefix(p))
        case .string(let s):
            result = .strings([s])
        case .number(let text):
            result = .numbers([try Self.finiteNumber(text)])
        case .array(let elements):
            var strings: [String] = []
            var numbers: [Double] = []
            for element in elements {
                switch element {
                case .string(let s): strings.append(s)
                case .number(let text): numbers.append(try Self.finiteNumber(text))
                default: throw invalid("Inside anything but list, start|null|boolean is not supported.")
                }
            }
            if strings.isEmpty == numbers.isEmpty {
                throw invalid("Inside anything but list, either all values are number or string, mixed type is not supported")
            }
            result = strings.isEmpty ? .numbers(numbers) : .strings(strings)
        case .bool, .null:
            throw invalid("Value of anything-but must be an array or single string/number value.")
        }
        // Event Ruler reports extra keys after an anything-but value with its numeric text.
        guard onlyOneKey else { throw invalid("Too many elements in numeric expression") }
        return .anythingBut(result)
    }

    /// A policy number as a Double; a value that overflows to infinity is rejected (Herald text:
    /// SNS records none).
    static func finiteNumber(_ text: String) throws(FilterPolicyError) -> Double {
        guard let d = Double(text), d.isFinite else {
            throw FilterPolicyError(.invalidPolicy, "Numeric value out of range: \(text)")
        }
        return FilterNumber.canonical(d)
    }

    /// What Jackson's `getText()` shows for a token: the string's content, a number's text, a
    /// literal, or the opening/closing marker (`]` when the array ended).
    static func tokenText(_ value: JSONValue?) -> String {
        switch value {
        case nil: return "]"
        case .string(let s): return s
        case .number(let t): return t
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array: return "["
        case .object: return "{"
        }
    }
}
