import HeraldCore

/// One case of the filter-policy conformance format (`shared/conformance/README.md`): a policy, a
/// scope, an optional message and the expected outcome. Shared by the test corpus runner and
/// `herald policy test --cases`, so both judge a case the same way.
public struct PolicyCase: Sendable {
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        case match, nomatch, valid, invalid
    }

    public var id: String
    public var scope: FilterPolicyScope
    /// The policy text (`policy` re-serialised with key order and number text kept, or `policy_raw`).
    public var policyText: String
    public var attributes: MessageAttributes?
    public var body: [UInt8]?
    /// Whether the case has a message (`match`/`nomatch` cases) or is policy-only.
    public var hasMessage: Bool { attributes != nil || body != nil }
    public var expect: Outcome
    public var api: SNSAPI?
    /// SNS's full first line for invalid cases recorded from AWS, e.g.
    /// "Invalid parameter: FilterPolicy: Filter policy is too complex".
    public var errorFirstLine: String?
    public var awsValidated: Bool

    /// What one evaluator made of a case.
    public struct Result: Sendable {
        public var outcome: Outcome
        public var error: FilterPolicyError?
        /// `outcome == expect`, and for a recorded invalid case the message's first line is exact.
        public var passed: Bool
        /// Why it failed, for reports.
        public var mismatch: String?
    }

    /// Runs the case with an evaluator of reduced inputs (`ReferenceEvaluator.matches`).
    public func run(limits: FilterPolicyLimits = .sns, evaluator: (FilterPolicy, FilterInput) -> Bool) -> Result {
        run(limits: limits) { policy, attributes, body in
            evaluator(policy, policy.scope == .messageAttributes ? .attributes(attributes) : .body(body))
        }
    }

    /// Runs the case with the compiled `PolicyMatcher` (the policy alone on a topic).
    public func runCompiled(limits: FilterPolicyLimits = .sns) -> Result {
        run(limits: limits) { policy, attributes, body in
            var builder = PolicyMatcherBuilder()
            builder.add(0, policy)
            return !builder.build().matches(attributes: attributes, body: body).isEmpty
        }
    }

    /// Runs the case: parse the policy (SNS validation), then evaluate the message if there is one.
    /// `evaluator` sees the raw message: its attributes and its body (empty when the case has none).
    public func run(limits: FilterPolicyLimits = .sns, messageEvaluator evaluator: (FilterPolicy, MessageAttributes, [UInt8]) -> Bool) -> Result {
        let policy: FilterPolicy
        do {
            policy = try FilterPolicy.parse(policyText, scope: scope, limits: limits)
        } catch {
            let firstLine = error.message(api: api ?? .setSubscriptionAttributes)
                .split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            var mismatch: String?
            if expect != .invalid {
                mismatch = "expected \(expect.rawValue), policy rejected: \(firstLine)"
            } else if let errorFirstLine, errorFirstLine != firstLine {
                mismatch = "expected error \"\(errorFirstLine)\", got \"\(firstLine)\""
            }
            return Result(outcome: .invalid, error: error, passed: mismatch == nil, mismatch: mismatch)
        }
        let outcome: Outcome
        if hasMessage {
            outcome = evaluator(policy, attributes ?? [:], body ?? []) ? .match : .nomatch
        } else {
            outcome = .valid
        }
        let passed = outcome == expect
        return Result(outcome: outcome, error: nil, passed: passed,
                      mismatch: passed ? nil : "expected \(expect.rawValue), got \(outcome.rawValue)")
    }

    /// Decodes a JSON array of cases. Errors name the case index and the field.
    public static func decodeList(_ json: JSONValue) throws(FilterPolicyError) -> [PolicyCase] {
        guard case .array(let elements) = json else { throw bad("the cases file must hold a JSON array") }
        var cases: [PolicyCase] = []
        for (index, element) in elements.enumerated() {
            cases.append(try decode(element, index: index))
        }
        return cases
    }

    public static func decode(_ json: JSONValue, index: Int = 0) throws(FilterPolicyError) -> PolicyCase {
        guard case .string(let id)? = json["id"] else { throw bad("case \(index): missing string \"id\"") }
        let scope: FilterPolicyScope
        switch json["scope"] {
        case nil, .null?: scope = .messageAttributes
        case .string(let s)?: scope = try FilterPolicyScope(snsValue: s)
        default: throw bad("case \(id): \"scope\" must be a string")
        }
        let policyText: String
        switch (json["policy"], json["policy_raw"]) {
        case (let policy?, _) where policy != .null: policyText = policy.text
        case (_, .string(let raw)?): policyText = raw
        default: throw bad("case \(id): needs \"policy\" or \"policy_raw\"")
        }
        guard case .string(let expectText)? = json["expect"], let expect = Outcome(rawValue: expectText) else {
            throw bad("case \(id): \"expect\" must be one of match, nomatch, valid, invalid")
        }
        var api: SNSAPI?
        if case .string(let a)? = json["api"] { api = SNSAPI(rawValue: a) }
        var errorFirstLine: String?
        if case .string(let e)? = json["error_first_line"] { errorFirstLine = e }
        var awsValidated = false
        if case .bool(let b)? = json["aws_validated"] { awsValidated = b }

        var attributes: MessageAttributes?
        var body: [UInt8]?
        if let message = json["message"], message != .null {
            if let attrs = message["attributes"] { attributes = try decodeAttributes(attrs, caseID: id) }
            switch message["body"] {
            case nil: break
            case .string(let s)?: body = Array(s.utf8)
            case let other?: body = Array(other.text.utf8)  // a body given as JSON, not as text
            }
            if attributes == nil && body == nil { throw bad("case \(id): \"message\" needs \"attributes\" or \"body\"") }
        }
        return PolicyCase(id: id, scope: scope, policyText: policyText, attributes: attributes, body: body,
                          expect: expect, api: api, errorFirstLine: errorFirstLine, awsValidated: awsValidated)
    }

    /// `{"NAME": {"Type": "String", "Value": "…"}}`. A Binary value's text is kept as its bytes
    /// (filtering ignores Binary attributes anyway).
    public static func decodeAttributes(_ json: JSONValue, caseID: String = "message") throws(FilterPolicyError) -> MessageAttributes {
        guard case .object(let members) = json else { throw bad("\(caseID): \"attributes\" must be an object") }
        var result: MessageAttributes = [:]
        for member in members {
            guard case .string(let type)? = member.value["Type"] ?? member.value["DataType"] else {
                throw bad("\(caseID): attribute \"\(member.key)\" needs a string \"Type\"")
            }
            let value: String
            switch member.value["Value"] ?? member.value["StringValue"] ?? member.value["BinaryValue"] {
            case .string(let s)?: value = s
            case let other?: value = other.text
            case nil: throw bad("\(caseID): attribute \"\(member.key)\" needs a \"Value\"")
            }
            let isBinary = type.split(separator: ".", maxSplits: 1).first == "Binary"
            result[member.key] = MessageAttributeValue(
                dataType: type, payload: isBinary ? .binary(Array(value.utf8)) : .string(value))
        }
        return result
    }

    private static func bad(_ detail: String) -> FilterPolicyError {
        FilterPolicyError(.invalidCase, "invalid case: " + detail)
    }
}
