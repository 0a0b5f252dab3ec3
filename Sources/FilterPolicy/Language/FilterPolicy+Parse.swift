import HeraldCore

/// `FilterPolicy.parse`: policy text → validated AST, with SNS's checks in SNS's order.
///
/// Order (see docs/FILTER-POLICIES.md, "Validation order"):
/// 1. size (`maxPolicyBytes`), before any parsing;
/// 2. JSON syntax, UTF-8 and nesting depth ("failed to parse JSON. …");
/// 3. the policy language, walked in document order as Event Ruler's compiler walks it (shape,
///    operators, operands, `$or` structure) — the first problem found is reported;
/// 4. SNS's own checks: top-level key count, then MessageAttributes no-nesting, then combinations.
extension FilterPolicy {
    /// Deepest policy nesting ever accepted, whatever the configured limit: the validator walks
    /// the policy recursively, so this keeps its stack use small on any thread.
    public static let hardMaxNestingDepth = 256

    public static func parse(
        _ text: String,
        scope: FilterPolicyScope = .messageAttributes,
        limits: FilterPolicyLimits = .sns
    ) throws(FilterPolicyError) -> FilterPolicy {
        try parse(utf8: Array(text.utf8), scope: scope, limits: limits)
    }

    /// The same over raw bytes (which may be invalid UTF-8, e.g. read from a file).
    public static func parse(
        utf8 bytes: [UInt8],
        scope: FilterPolicyScope = .messageAttributes,
        limits: FilterPolicyLimits = .sns
    ) throws(FilterPolicyError) -> FilterPolicy {
        guard bytes.count <= limits.maxPolicyBytes else {
            throw FilterPolicyError(
                .policyTooLarge,
                "Filter policy is too large: \(bytes.count) bytes, the limit is \(limits.maxPolicyBytes) bytes")
        }
        let depth = min(limits.maxNestingDepth, hardMaxNestingDepth)
        let json = try parseJSON(bytes, maxDepth: depth)
        return try validate(json, scope: scope, limits: limits)
    }

    /// Validates an already parsed policy value (the CLI's `--cases` mode parses case files itself).
    public static func validate(
        _ json: JSONValue,
        scope: FilterPolicyScope = .messageAttributes,
        limits: FilterPolicyLimits = .sns
    ) throws(FilterPolicyError) -> FilterPolicy {
        // A value built in code skipped the parser's depth bound; the walk below recurses.
        let maxDepth = min(limits.maxNestingDepth, hardMaxNestingDepth)
        let depth = json.nestingDepth
        guard depth <= maxDepth else {
            throw FilterPolicyError(
                .invalidJSON,
                "failed to parse JSON. Document nesting depth (\(depth)) exceeds the maximum allowed (\(maxDepth))")
        }
        guard case .object(let members) = json else {
            throw FilterPolicyError(.invalidPolicy, "Filter is not an object")
        }
        // `{}` is accepted and matches everything (see docs: "Empty policy").
        if members.isEmpty { return FilterPolicy(scope: scope, root: PolicyConjunction(keys: [])) }

        var validator = PolicyValidator()
        let spec = try validator.walkRoot(members)

        var distinctKeys = Set<String>()
        for m in members { distinctKeys.insert(m.key) }
        guard distinctKeys.count <= limits.maxKeys else {
            throw FilterPolicyError(.tooManyKeys, "Filter policy can not have more than \(limits.maxKeys) keys")
        }
        if scope == .messageAttributes && validator.sawNestedObject {
            throw FilterPolicyError(
                .nestedPolicyNotSupported,
                "Filter policy scope MessageAttributes does not support nested filter policy")
        }
        guard spec.combinations <= limits.maxCombinations else {
            throw FilterPolicyError(.tooComplex, "Filter policy is too complex")
        }
        return FilterPolicy(scope: scope, root: spec.conjunction)
    }

    /// The combination count of a policy text, as SNS counts it (§3.1: per leaf nesting depth ×
    /// values, multiplied across keys, summed over `$or` branches), without applying any limit.
    /// Used by `herald policy` and the tests; throws the same errors as `parse` otherwise.
    public static func combinations(of text: String) throws(FilterPolicyError) -> Int {
        let json = try parseJSON(text, maxDepth: min(FilterPolicyLimits.sns.maxNestingDepth, hardMaxNestingDepth))
        guard case .object(let members) = json else {
            throw FilterPolicyError(.invalidPolicy, "Filter is not an object")
        }
        if members.isEmpty { return 1 }
        var validator = PolicyValidator()
        return try validator.walkRoot(members).combinations
    }
}
