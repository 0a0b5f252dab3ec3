import HeraldBroker
import HeraldCore

/// SNS topic attributes as CreateTopic and SetTopicAttributes take them: which names exist, what
/// each value may be (SNS's texts where recorded in spec/sns-spec.md, Herald's otherwise), the
/// FIFO naming rules, and what a stored attribute set means for the broker (deduplication) and
/// the HTTP/S pumps (`DeliveryPolicy`). Values are stored as given, booleans lower-cased.
///
/// Callers: `TopicAPI` (any thread). Pure.
enum TopicAttributes {
    /// Attributes SetTopicAttributes may change (FifoTopic is fixed at creation, as in SNS).
    static let settable: Set<String> = [
        "DisplayName", "DeliveryPolicy", "Policy", "SignatureVersion", "KmsMasterKeyId", "TracingConfig",
        "ContentBasedDeduplication", "FifoThroughputScope",
    ]
    /// Attributes CreateTopic takes.
    static let creatable: Set<String> = settable.union(["FifoTopic"])

    static let fifoNameText =
        "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
    static let topicNameText = "Invalid parameter: Topic Name"
    static let differentAttributesText = "Invalid parameter: Attributes Reason: Topic already exists with different attributes"

    /// CreateTopic: checks the name against `FifoTopic` and every attribute; the attributes to
    /// store (FIFO topics record `FifoTopic=true` and `ContentBasedDeduplication`).
    static func forCreate(name: String, _ given: [String: String]) throws(HeraldError) -> [String: String] {
        let fifoText = given["FifoTopic"]
        let fifo = try fifoText.map { (text: String) throws(HeraldError) -> Bool in try boolean("FifoTopic", text, reason: true) } ?? false
        if fifo {
            guard TopicName.isFIFO(name), TopicName.isValid(name) else { throw HeraldError(.invalidParameter, fifoNameText) }
        } else {
            guard TopicName.isValid(name), !TopicName.isFIFO(name) else { throw HeraldError(.invalidParameter, topicNameText) }
        }
        var stored: [String: String] = [:]
        for (key, value) in given where key != "FifoTopic" {
            guard creatable.contains(key) else { throw HeraldError(.invalidParameter, "Invalid parameter: Attributes Reason: Unknown attribute \(key)") }
            if let normalised = try validate(key, value, topic: name, reason: true) { stored[key] = normalised }
        }
        if fifo {
            stored["FifoTopic"] = "true"
            stored["ContentBasedDeduplication"] = stored["ContentBasedDeduplication"] ?? "false"
        }
        return stored
    }

    /// SetTopicAttributes: `stored` with `attribute` set to `value` (an empty value removes an
    /// optional attribute, as SNS does for DeliveryPolicy and DisplayName).
    static func setting(_ attribute: String, to value: String, in stored: [String: String], topic: String) throws(HeraldError) -> [String: String] {
        guard settable.contains(attribute) else { throw HeraldError(.invalidParameter, "Invalid parameter: AttributeName") }
        var updated = stored
        updated[attribute] = try validate(attribute, value, topic: topic, reason: false)
        if TopicName.isFIFO(topic) {
            updated["ContentBasedDeduplication"] = updated["ContentBasedDeduplication"] ?? "false"
        }
        return updated
    }

    /// One attribute's value checked; nil when an empty value clears it. `reason`: CreateTopic's
    /// texts carry `Attributes Reason:` after `Invalid parameter:`, SetTopicAttributes' do not (spec §3.2).
    static func validate(_ attribute: String, _ value: String, topic: String, reason: Bool) throws(HeraldError) -> String? {
        let fifo = TopicName.isFIFO(topic)
        switch attribute {
        case "ContentBasedDeduplication":
            let on = try boolean(attribute, value, reason: reason)
            if on && !fifo { throw invalid("ContentBasedDeduplication: only FIFO topics deduplicate by content", reason: reason) }
            return on ? "true" : "false"
        case "FifoThroughputScope":
            guard fifo else { throw invalid("FifoThroughputScope: only FIFO topics have a throughput scope", reason: reason) }
            guard value == "Topic" || value == "MessageGroup" else {
                throw invalid("FifoThroughputScope: Invalid value [\(value)]. Please use either Topic or MessageGroup", reason: reason)
            }
            return value
        case "SignatureVersion":
            guard value == "1" || value == "2" else { throw invalid("SignatureVersion: Invalid value [\(value)]. Must be 1 or 2.", reason: reason) }
            return value
        case "TracingConfig":
            guard value == "PassThrough" || value == "Active" else {
                throw invalid("TracingConfig: Invalid value [\(value)]. Must be PassThrough or Active.", reason: reason)
            }
            return value
        case "DeliveryPolicy":
            guard !value.isEmpty else { return nil }
            do {
                _ = try HTTPTopicDeliveryPolicy.parse(Array(value.utf8))
            } catch {
                throw reason ? withReason(error) : error
            }
            return value
        case "Policy":
            guard !value.isEmpty else { return nil }
            guard case .object? = try? JSONParser.parse(value, limits: .init(maxDepth: 32)) else {
                throw invalid("Policy: the policy is not a JSON object", reason: reason)
            }
            return value
        case "DisplayName":
            guard !value.isEmpty else { return nil }
            guard value.count <= 100 else { throw invalid("DisplayName: at most 100 characters", reason: reason) }
            return value
        default:  // KmsMasterKeyId: stored, not used (Herald's journal is not KMS-encrypted)
            return value.isEmpty ? nil : value
        }
    }

    /// Whether CreateTopic's `requested` attributes (already normalised by `forCreate`) differ from
    /// those of the existing topic: SNS compares the attributes the request names.
    static func differ(requested: [String: String], existing: [String: String]) -> Bool {
        requested.contains { existing[$0.key] != $0.value }
    }

    /// What the broker deduplicates by on a topic with these attributes (FIFO: always).
    static func deduplication(_ attributes: [String: String], topic: String) -> TopicDeduplicationPolicy? {
        guard TopicName.isFIFO(topic) else { return nil }
        return .fifo(contentBasedDeduplication: attributes["ContentBasedDeduplication"] == "true")
    }

    /// The topic `DeliveryPolicy` of these attributes, parsed (nil: none, or one that no longer parses).
    static func deliveryPolicy(_ attributes: [String: String]) -> HTTPTopicDeliveryPolicy? {
        attributes["DeliveryPolicy"].flatMap { try? HTTPTopicDeliveryPolicy.parse(Array($0.utf8)) }
    }

    /// The access policy SNS gives a new topic: the owner account may do everything. Stored
    /// policies are reported, not enforced: Herald's permissions come from its configuration.
    static func defaultPolicy(topicArn: String, account: String) -> String {
        let actions = [
            "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic",
            "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish",
        ]
        let statement = JSONValue.object([
            .init(key: "Sid", value: .string("__default_statement_ID")), .init(key: "Effect", value: .string("Allow")),
            .init(key: "Principal", value: .object([.init(key: "AWS", value: .string("*"))])),
            .init(key: "Action", value: .array(actions.map { .string($0) })), .init(key: "Resource", value: .string(topicArn)),
            .init(key: "Condition", value: .object([
                .init(key: "StringEquals", value: .object([.init(key: "AWS:SourceOwner", value: .string(account))])),
            ])),
        ])
        return JSONValue.object([
            .init(key: "Version", value: .string("2008-10-17")), .init(key: "Id", value: .string("__default_policy_ID")),
            .init(key: "Statement", value: .array([statement])),
        ]).text
    }

    private static func boolean(_ attribute: String, _ value: String, reason: Bool) throws(HeraldError) -> Bool {
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw invalid("\(attribute): Invalid value [\(value)]. Must be true or false.", reason: reason)
        }
    }

    private static func invalid(_ text: String, reason: Bool) -> HeraldError {
        HeraldError(.invalidParameter, (reason ? "Invalid parameter: Attributes Reason: " : "Invalid parameter: ") + text)
    }

    /// `Invalid parameter: X` → `Invalid parameter: Attributes Reason: X` (CreateTopic's form).
    private static func withReason(_ error: HeraldError) -> HeraldError {
        let prefix = "Invalid parameter: "
        guard error.message.hasPrefix(prefix) else { return error }
        return HeraldError(error.code, prefix + "Attributes Reason: " + error.message.dropFirst(prefix.count))
    }
}
