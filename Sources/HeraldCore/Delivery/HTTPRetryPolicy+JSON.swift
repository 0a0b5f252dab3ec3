/// Reading and validating a retry policy object (`healthyRetryPolicy`, or the topic's
/// `http.defaultHealthyRetryPolicy`), with SNS's texts where recorded (spec §5.2):
///
/// | check | reason (after "Invalid parameter: DeliveryPolicy: ") | source |
/// |---|---|---|
/// | minDelayTarget, maxDelayTarget, numRetries absent | `<path>.<field> must be specified` | CMB (Comcast's SNS clone) test texts; SNS requires the three (triggermesh PR #220) |
/// | a field not an integer | `<path>.<field> must be an integer` | Herald |
/// | minDelayTarget < 1 | `<path>.minDelayTarget must be greater than or equal to 1` | AWS (awsdocs PR #5) |
/// | maxDelayTarget > 3600 | `<path>.maxDelayTarget must be less than or equal to 3600` | Herald, in AWS's wording |
/// | maxDelayTarget < minDelayTarget | `<path>.maxDelayTarget must be greater than or equal to minDelayTarget` | CMB |
/// | numRetries < 0 | `<path>.numRetries must be greater than or equal to 0` | Herald, in AWS's wording |
/// | numRetries > 100 | `<path>.numRetries must be less than or equal to 100` | AWS (ballerina SNS connector test) |
/// | a phase count < 0 | `<path>.<field> must be greater than or equal to 0` | Herald, in AWS's wording |
/// | phases > numRetries | `<path>.numRetries must be greater than or equal to total of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries` | CMB |
/// | backoffFunction unknown | `<path>.backoffFunction must be one of linear, arithmetic, geometric, exponential` | Herald |
/// | total schedule > 3600 s | `<path>: Total policy retry time cannot be greater than 3600 seconds` | AWS (re:Post, topic form) |
///
/// The total is the sum of the rounded nominal delays (`totalRetrySeconds`), jitter not counted.
/// The docs' example (1, 60, 50 retries: 3 immediate, 2 pre, 35 post, exponential) totals 2,264 s
/// and is accepted.
extension HTTPRetryPolicy {
    static let memberNames = [
        "minDelayTarget", "maxDelayTarget", "numRetries", "numNoDelayRetries", "numMinDelayRetries",
        "numMaxDelayRetries", "backoffFunction",
    ]

    /// Reads and validates the retry policy object at `path`.
    static func read(_ value: JSONValue, path: String, reader: PolicyDocumentReader) throws(HeraldError) -> HTTPRetryPolicy {
        let members = try reader.members(of: value, at: path, allowed: memberNames)
        let minDelay = try reader.integer(members, "minDelayTarget", path: path, required: true) ?? 0
        let maxDelay = try reader.integer(members, "maxDelayTarget", path: path, required: true) ?? 0
        let retries = try reader.integer(members, "numRetries", path: path, required: true) ?? 0
        let noDelay = try reader.integer(members, "numNoDelayRetries", path: path, required: false) ?? 0
        let minRetries = try reader.integer(members, "numMinDelayRetries", path: path, required: false) ?? 0
        let maxRetries = try reader.integer(members, "numMaxDelayRetries", path: path, required: false) ?? 0
        var function = BackoffFunction.linear
        if let name = try reader.string(members, "backoffFunction", path: path) {
            guard let known = BackoffFunction(rawValue: name) else {
                throw reader.failure("\(path).backoffFunction must be one of linear, arithmetic, geometric, exponential")
            }
            function = known
        }
        let policy = HTTPRetryPolicy(
            minDelayTarget: minDelay, maxDelayTarget: maxDelay, numRetries: retries,
            numNoDelayRetries: noDelay, numMinDelayRetries: minRetries, numMaxDelayRetries: maxRetries,
            backoffFunction: function)
        if let reason = policy.violation(path: path) { throw reader.failure(reason) }
        return policy
    }

    /// The first rule this policy breaks, as SNS's reason text for a policy at `path`; nil when valid.
    /// For policies built in code (configuration), checked the same way as parsed ones.
    public func violation(path: String = "healthyRetryPolicy") -> String? {
        if minDelayTarget < 1 { return "\(path).minDelayTarget must be greater than or equal to 1" }
        if maxDelayTarget > Self.maxDelayTargetLimit {
            return "\(path).maxDelayTarget must be less than or equal to \(Self.maxDelayTargetLimit)"
        }
        if maxDelayTarget < minDelayTarget { return "\(path).maxDelayTarget must be greater than or equal to minDelayTarget" }
        if numRetries < 0 { return "\(path).numRetries must be greater than or equal to 0" }
        if numRetries > Self.maxRetries { return "\(path).numRetries must be less than or equal to \(Self.maxRetries)" }
        for (name, count) in [
            ("numNoDelayRetries", numNoDelayRetries), ("numMinDelayRetries", numMinDelayRetries),
            ("numMaxDelayRetries", numMaxDelayRetries),
        ] where count < 0 {
            return "\(path).\(name) must be greater than or equal to 0"
        }
        // Each count is now within 0 … Int.max and numRetries ≤ 100: compare without overflow.
        let phases = [numNoDelayRetries, numMinDelayRetries, numMaxDelayRetries]
        if phases.contains(where: { $0 > numRetries }) || phases.reduce(0, +) > numRetries {
            return "\(path).numRetries must be greater than or equal to total of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries"
        }
        if totalRetrySeconds > Self.maxTotalRetrySeconds {
            return "\(path): Total policy retry time cannot be greater than \(Self.maxTotalRetrySeconds) seconds"
        }
        return nil
    }

    /// The policy as SNS reports it in EffectiveDeliveryPolicy (spec §5.2 [VERIFIED] member order).
    var json: JSONValue {
        .object([
            .init(key: "minDelayTarget", value: .number(String(minDelayTarget))),
            .init(key: "maxDelayTarget", value: .number(String(maxDelayTarget))),
            .init(key: "numRetries", value: .number(String(numRetries))),
            .init(key: "numMaxDelayRetries", value: .number(String(numMaxDelayRetries))),
            .init(key: "numNoDelayRetries", value: .number(String(numNoDelayRetries))),
            .init(key: "numMinDelayRetries", value: .number(String(numMinDelayRetries))),
            .init(key: "backoffFunction", value: .string(backoffFunction.rawValue)),
        ])
    }
}
