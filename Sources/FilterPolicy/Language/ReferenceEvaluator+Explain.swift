import HeraldCore

/// Human-readable reasons for a non-match (for `herald policy test`).
extension ReferenceEvaluator {
    /// Why `input` does not match `policy`, or nil when it matches. Names the first key that fails
    /// in each `$or` branch, with the message's values at that key and the policy's conditions.
    public static func explain(_ policy: FilterPolicy, _ input: FilterInput) -> String? {
        if matches(policy, input) { return nil }
        guard input.isMatchable else {
            return "the message body is not a JSON object, so no MessageBody-scope policy matches it"
        }
        let branches = policy.branches
        let reasons = branches.prefix(10).map { branch in
            branch.first { !keyHolds($0, in: input) }.map { failure(of: $0, in: input) } ?? "holds"
        }
        if branches.count == 1, let only = reasons.first { return only }
        var text = "none of the \(branches.count) $or branches holds: "
        text += reasons.enumerated().map { "branch \($0.offset + 1): \($0.element)" }.joined(separator: "; ")
        if branches.count > 10 { text += "; …" }
        return text
    }

    public static func explain(_ policy: FilterPolicy, attributes: MessageAttributes, body: [UInt8]) -> String? {
        explain(policy, input(for: policy, attributes: attributes, body: body))
    }

    private static func failure(of key: KeyCondition, in input: FilterInput) -> String {
        let values = input.fields.filter { $0.path == key.path }.map(\.value)
        let wanted = "[" + key.conditions.map(\.policyText).joined(separator: ", ") + "]"
        let onlyExistsFalse = key.conditions.allSatisfy { $0 == .exists(false) }
        if onlyExistsFalse && input.isEmpty {
            return "key \"\(key.path)\": the message has no attributes, and {\"exists\": false} never matches such a message"
        }
        if values.isEmpty {
            return "key \"\(key.path)\" is absent from the message; the policy wants \(wanted)"
        }
        let shown = values.prefix(10).map(\.policyText).joined(separator: ", ") + (values.count > 10 ? ", …" : "")
        return "key \"\(key.path)\" has \(values.count == 1 ? "value" : "values") \(shown); none satisfies \(wanted)"
    }
}

extension FilterValue {
    /// The value as JSON text, with its type visible (`"99"` is a string, `99` a number).
    public var policyText: String {
        switch self {
        case .string(let s): return JSONValue.quoted(s)
        case .number(let d): return Condition.numberText(d)
        case .boolean(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }
}

extension Condition {
    /// The condition written back as policy JSON.
    public var policyText: String {
        switch self {
        case .exactString(let s): return JSONValue.quoted(s)
        case .exactNumber(let d): return Condition.numberText(d)
        case .boolean(let b): return b ? "true" : "false"
        case .null: return "null"
        case .prefix(let s): return "{\"prefix\": \(JSONValue.quoted(s))}"
        case .suffix(let s): return "{\"suffix\": \(JSONValue.quoted(s))}"
        case .equalsIgnoreCase(let s): return "{\"equals-ignore-case\": \(JSONValue.quoted(s))}"
        case .exists(let b): return "{\"exists\": \(b)}"
        case .anythingBut(.strings(let list)):
            return "{\"anything-but\": [" + list.map(JSONValue.quoted).joined(separator: ", ") + "]}"
        case .anythingBut(.numbers(let list)):
            return "{\"anything-but\": [" + list.map(Condition.numberText).joined(separator: ", ") + "]}"
        case .anythingBut(.prefix(let p)):
            return "{\"anything-but\": {\"prefix\": \(JSONValue.quoted(p))}}"
        case .numeric(let r):
            var parts: [String] = []
            if let lower = r.lower, let upper = r.upper, lower == upper, r.lowerInclusive, r.upperInclusive {
                parts = ["\"=\"", Condition.numberText(lower)]
            } else {
                if let lower = r.lower { parts += [r.lowerInclusive ? "\">=\"" : "\">\"", Condition.numberText(lower)] }
                if let upper = r.upper { parts += [r.upperInclusive ? "\"<=\"" : "\"<\"", Condition.numberText(upper)] }
            }
            return "{\"numeric\": [" + parts.joined(separator: ", ") + "]}"
        case .cidr(let block):
            return "{\"cidr\": \"\(block.text)\"}"
        }
    }

    /// Integral values without a fraction (`100`, not `100.0`).
    static func numberText(_ d: Double) -> String {
        if d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }
}

extension CIDRBlock {
    /// `address/prefix` (IPv6 uncompressed, lower-case hex).
    public var text: String {
        let addressText: String
        if address.count == 4 {
            addressText = address.map(String.init).joined(separator: ".")
        } else {
            var groups: [String] = []
            var i = 0
            while i + 1 < address.count {
                groups.append(String(UInt16(address[i]) << 8 | UInt16(address[i + 1]), radix: 16))
                i += 2
            }
            addressText = groups.joined(separator: ":")
        }
        return "\(addressText)/\(prefixLength)"
    }
}
