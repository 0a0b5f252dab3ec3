import HeraldCore

/// Walks a parsed policy in document order, as Event Ruler's `JsonRuleCompiler` walks its token
/// stream, so the first error reported is the one SNS reports. Produces a `ConjunctionSpec`: the
/// AST plus what SNS's own checks need (nesting depth of every leaf).
///
/// Recursion depth is bounded by the parser's nesting bound (`FilterPolicy.hardMaxNestingDepth`).
struct PolicyValidator {
    /// Whether some key's value was an object (a nested policy), outside `$or` arrays.
    private(set) var sawNestedObject = false

    /// Field names Event Ruler reserves inside `$or` objects (its `Constants`).
    static let reservedInsideOr: Set<String> = [
        "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard",
        "numeric", "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard",
        "not-equals-ignore-case", "date-after", "date-on-or-after", "date-before",
        "date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range",
    ]

    static let orKeyword = "$or"

    mutating func walkRoot(_ members: [JSONValue.Member]) throws(FilterPolicyError) -> ConjunctionSpec {
        var spec = ConjunctionSpec()
        try walkObject(members, prefix: nil, depth: 1, insideOr: false, into: &spec)
        return spec
    }

    /// One JSON object of the policy: its keys join the conjunction `spec` (nested objects add
    /// their keys with dotted paths; `$or` arrays add an OR group).
    private mutating func walkObject(
        _ members: [JSONValue.Member], prefix: String?, depth: Int, insideOr: Bool,
        into spec: inout ConjunctionSpec
    ) throws(FilterPolicyError) {
        for member in members {
            if member.key == Self.orKeyword {
                spec.orGroups.append(try walkOr(member.value, prefix: prefix, depth: depth))
                continue
            }
            if insideOr && Self.reservedInsideOr.contains(member.key) {
                throw invalid("\(member.key) is Ruler reserved fieldName which cannot be used inside $or.")
            }
            let path = prefix.map { "\($0).\(member.key)" } ?? member.key
            switch member.value {
            case .object(let inner):
                sawNestedObject = true
                guard !inner.isEmpty else { throw invalid("Empty objects are not allowed") }
                try walkObject(inner, prefix: path, depth: depth + 1, insideOr: insideOr, into: &spec)
            case .array(let elements):
                let conditions = try conditions(of: elements)
                spec.setLeaf(LeafSpec(path: path, depth: depth, conditions: conditions))
            default:
                throw invalid("\"\(member.key)\" must be an object or an array")
            }
        }
    }

    /// `"$or": [ {…}, {…}, … ]` at the level of `prefix`.
    private mutating func walkOr(
        _ value: JSONValue, prefix: String?, depth: Int
    ) throws(FilterPolicyError) -> [ConjunctionSpec] {
        guard case .array(let elements) = value else {
            throw invalid("It must be an Array followed with $or.")
        }
        var alternatives: [ConjunctionSpec] = []
        for element in elements {
            guard case .object(let members) = element else {
                throw invalid("Only JSON object is allowed in array of $or relationship.")
            }
            guard !members.isEmpty else { throw invalid("Empty objects are not allowed") }
            var alternative = ConjunctionSpec()
            try walkObject(members, prefix: prefix, depth: depth, insideOr: true, into: &alternative)
            alternatives.append(alternative)
        }
        guard alternatives.count >= 2 else {
            throw invalid("There must have at least 2 Objects in $or relationship.")
        }
        return alternatives
    }

    /// A leaf array: each element is one condition (OR).
    private func conditions(of elements: [JSONValue]) throws(FilterPolicyError) -> [Condition] {
        var result: [Condition] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            switch element {
            case .object(let members): result.append(try matchExpression(members))
            case .string(let s): result.append(.exactString(s))
            case .number(let text): result.append(.exactNumber(try Self.finiteNumber(text)))
            case .bool(let b): result.append(.boolean(b))
            case .null: result.append(.null)
            case .array: throw invalid("Match value must be String, number, true, false, or null")
            }
        }
        guard !result.isEmpty else { throw invalid("Empty arrays are not allowed") }
        return result
    }

    func invalid(_ reason: String) -> FilterPolicyError {
        FilterPolicyError(.invalidPolicy, reason)
    }
}

/// One leaf of the policy with the nesting depth SNS multiplies its value count by.
struct LeafSpec {
    var path: String
    var depth: Int
    var conditions: [Condition]
}

/// A conjunction under construction: leaves plus `$or` groups of alternative conjunctions.
struct ConjunctionSpec {
    var leaves: [LeafSpec] = []
    var orGroups: [[ConjunctionSpec]] = []

    /// A repeated path (duplicate JSON key, or `"a.b"` next to `"a": {"b": …}`) replaces the
    /// earlier one, as in Event Ruler (its rule map is keyed by path) and Jackson (last key wins).
    mutating func setLeaf(_ leaf: LeafSpec) {
        if let i = leaves.firstIndex(where: { $0.path == leaf.path }) {
            leaves[i] = leaf
        } else {
            leaves.append(leaf)
        }
    }

    /// SNS's combination count: product over leaves of depth × value count, times, for each `$or`
    /// group, the sum of its alternatives' counts. (This equals the sum over DNF branches of each
    /// branch's product.) Saturates at `Int.max`.
    var combinations: Int {
        var product = 1
        for leaf in leaves {
            product = Self.saturatingMultiply(product, Self.saturatingMultiply(leaf.depth, leaf.conditions.count))
        }
        for group in orGroups {
            var sum = 0
            for alternative in group {
                let (s, overflow) = sum.addingReportingOverflow(alternative.combinations)
                sum = overflow ? Int.max : s
            }
            product = Self.saturatingMultiply(product, sum)
        }
        return product
    }

    var conjunction: PolicyConjunction {
        PolicyConjunction(
            keys: leaves.map { KeyCondition(path: $0.path, conditions: $0.conditions) },
            orGroups: orGroups.map { group in group.map(\.conjunction) })
    }

    private static func saturatingMultiply(_ a: Int, _ b: Int) -> Int {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? Int.max : p
    }
}
