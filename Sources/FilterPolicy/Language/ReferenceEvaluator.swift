import HeraldCore

/// The slow, obviously correct oracle: the contract's matching semantics, line by line. The
/// compiled `PolicyMatcher` must agree with it on every input.
public enum ReferenceEvaluator {
    /// Rule 3: some DNF branch has every key holding (and the input is matchable).
    public static func matches(_ policy: FilterPolicy, _ input: FilterInput) -> Bool {
        guard input.isMatchable else { return false }
        return policy.branches.contains { branch in
            branch.allSatisfy { keyHolds($0, in: input) }
        }
    }

    /// Picks the input by the policy's scope.
    public static func matches(_ policy: FilterPolicy, attributes: MessageAttributes, body: [UInt8]) -> Bool {
        matches(policy, input(for: policy, attributes: attributes, body: body))
    }

    static func input(for policy: FilterPolicy, attributes: MessageAttributes, body: [UInt8]) -> FilterInput {
        switch policy.scope {
        case .messageAttributes: return .attributes(attributes)
        case .messageBody: return .body(body)
        }
    }

    /// A key holds when one of its conditions holds for the fields at its path.
    static func keyHolds(_ key: KeyCondition, in input: FilterInput) -> Bool {
        let values = input.fields.filter { $0.path == key.path }.map(\.value)
        return key.conditions.contains { conditionHolds($0, values: values, input: input) }
    }

    /// `exists` looks at the key as a whole; every other condition needs one field that satisfies
    /// it (any-element semantics, also for anything-but).
    static func conditionHolds(_ condition: Condition, values: [FilterValue], input: FilterInput) -> Bool {
        switch condition {
        case .exists(true):
            return values.contains { $0 != .null }
        case .exists(false):
            return !input.isEmpty && !values.contains { $0 != .null }
        default:
            return values.contains { valueSatisfies(condition, $0) }
        }
    }

    /// Rule 4: value typing. Strings compare by their UTF-8 bytes (no Unicode normalisation).
    public static func valueSatisfies(_ condition: Condition, _ value: FilterValue) -> Bool {
        switch (condition, value) {
        case (.exactString(let s), .string(let v)): return sameBytes(v, s)
        case (.exactNumber(let n), .number(let v)): return v == FilterNumber.canonical(n)
        case (.boolean(let b), .boolean(let v)): return v == b
        case (.null, .null): return true
        case (.prefix(let p), .string(let v)): return v.utf8.starts(with: p.utf8)
        case (.suffix(let p), .string(let v)): return v.utf8.reversed().starts(with: p.utf8.reversed())
        case (.equalsIgnoreCase(let s), .string(let v)): return sameBytes(v.lowercased(), s.lowercased())
        case (.anythingBut(.strings(let list)), .string(let v)): return !list.contains { sameBytes(v, $0) }
        case (.anythingBut(.prefix(let p)), .string(let v)): return !v.utf8.starts(with: p.utf8)
        case (.anythingBut(.numbers(let list)), .number(let v)): return !list.contains { FilterNumber.canonical($0) == v }
        case (.numeric(let range), .number(let v)): return range.canonical.contains(v)
        case (.cidr(let block), .string(let v)): return block.contains(address: v)
        default: return false
        }
    }

    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }
}
