import HeraldCore

/// SQS's attribute map (CreateQueue, SetQueueAttributes, GetQueueAttributes) to and from
/// `QueueAttributes`, with SQS's error texts: unknown names are `InvalidAttributeName`
/// "Unknown Attribute X."; out-of-range numbers `InvalidAttributeValue` "Invalid value for the
/// parameter X." [inferred]; RedrivePolicy problems `InvalidParameterValue` "Value … for parameter
/// RedrivePolicy is invalid. Reason: …". Names are checked in sorted order so the error is stable.
extension QueueAttributes {
    static let passthroughNames: Set<String> = ["Policy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled"]
    static let fifoPassthroughNames: Set<String> = ["DeduplicationScope", "FifoThroughputLimit"]

    /// CreateQueue: validates the name for the kind `FifoQueue` asks for, then applies the map to
    /// SQS's defaults.
    public init(sqsAttributes: [String: String], queueName: String) throws(HeraldError) {
        let fifoText = sqsAttributes["FifoQueue"]
        let fifo: Bool
        switch fifoText {
        case nil: fifo = false
        case let text?:
            guard let flag = Self.parseBool(text) else { throw Self.invalidValue("FifoQueue") }
            fifo = flag
        }
        try QueueName.validate(queueName, fifo: fifo)
        self = try QueueAttributes(fifo: fifo).applying(sqsAttributes)
    }

    /// SetQueueAttributes: this queue's attributes with `sqsAttributes` applied. `FifoQueue` may be
    /// repeated with its current value only.
    public func applying(_ sqsAttributes: [String: String]) throws(HeraldError) -> QueueAttributes {
        var result = self
        for name in sqsAttributes.keys.sorted() {
            guard let value = sqsAttributes[name] else { continue }
            switch name {
            case "VisibilityTimeout": result.visibilityTimeout = try Self.integer(name, value, Self.visibilityTimeoutRange)
            case "MessageRetentionPeriod": result.messageRetentionPeriod = try Self.integer(name, value, Self.messageRetentionPeriodRange)
            case "DelaySeconds": result.delaySeconds = try Self.integer(name, value, Self.delaySecondsRange)
            case "ReceiveMessageWaitTimeSeconds":
                result.receiveMessageWaitTimeSeconds = try Self.integer(name, value, Self.receiveMessageWaitTimeSecondsRange)
            case "MaximumMessageSize": result.maximumMessageSize = try Self.integer(name, value, Self.maximumMessageSizeRange)
            case "RedrivePolicy": result.redrivePolicy = try RedrivePolicy.parse(value, sourceIsFIFO: fifo)
            case "FifoQueue":
                guard Self.parseBool(value) == fifo else { throw Self.invalidValue(name) }
            case "ContentBasedDeduplication" where fifo:
                guard let flag = Self.parseBool(value) else { throw Self.invalidValue(name) }
                result.contentBasedDeduplication = flag
            case _ where Self.passthroughNames.contains(name) || (fifo && Self.fifoPassthroughNames.contains(name)):
                result.passthrough[name] = value
            default:
                throw HeraldError(.invalidAttributeName, "Unknown Attribute \(name).")
            }
        }
        return result
    }

    /// The settable attributes as SQS returns them (GetQueueAttributes adds QueueArn, counts and
    /// timestamps itself).
    public var sqsAttributes: [String: String] {
        var map: [String: String] = [
            "VisibilityTimeout": String(visibilityTimeout),
            "MessageRetentionPeriod": String(messageRetentionPeriod),
            "DelaySeconds": String(delaySeconds),
            "ReceiveMessageWaitTimeSeconds": String(receiveMessageWaitTimeSeconds),
            "MaximumMessageSize": String(maximumMessageSize),
        ]
        if fifo {
            map["FifoQueue"] = "true"
            map["ContentBasedDeduplication"] = contentBasedDeduplication ? "true" : "false"
        }
        if let redrivePolicy { map["RedrivePolicy"] = redrivePolicy.json }
        for (name, value) in passthrough { map[name] = value }
        return map
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true": true
        case "false": false
        default: nil
        }
    }

    static func invalidValue(_ name: String) -> HeraldError {
        HeraldError(.invalidAttributeValue, "Invalid value for the parameter \(name).")
    }

    private static func integer(_ name: String, _ text: String, _ range: ClosedRange<Int>) throws(HeraldError) -> Int {
        guard let value = Int(text), range.contains(value) else { throw invalidValue(name) }
        return value
    }
}

extension RedrivePolicy {
    /// Parses SQS's RedrivePolicy JSON text; an empty text removes the policy (nil).
    /// `maxReceiveCount` may be a number or a numeric string, as SQS accepts both.
    static func parse(_ text: String, sourceIsFIFO: Bool) throws(HeraldError) -> RedrivePolicy? {
        if text.isEmpty { return nil }
        func invalid(_ reason: String) -> HeraldError {
            HeraldError(.invalidParameterValue, "Value \(text) for parameter RedrivePolicy is invalid. Reason: \(reason)")
        }
        guard let json = try? JSONParser.parse(text, limits: .init(maxDepth: 8, maxBytes: 4096)), case .object = json else {
            throw invalid("Redrive policy is not a valid JSON map.")
        }
        guard let arnValue = json["deadLetterTargetArn"] else {
            throw invalid("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
        }
        guard let countValue = json["maxReceiveCount"] else {
            throw invalid("Redrive policy does not contain mandatory attribute: maxReceiveCount.")
        }
        let countText: String
        switch countValue {
        case .number(let number): countText = number
        case .string(let string): countText = string
        default: throw invalid("Invalid value for maxReceiveCount: \(countValue.text), valid values are from 1 to 1000 both inclusive.")
        }
        guard let count = Int(countText), QueueAttributes.maxReceiveCountRange.contains(count) else {
            throw invalid("Invalid value for maxReceiveCount: \(countText), valid values are from 1 to 1000 both inclusive.")
        }
        guard case .string(let arn) = arnValue else { throw invalid("Invalid value for deadLetterTargetArn.") }
        let fields = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "arn", fields[2] == "sqs", let name = fields.last.map(String.init),
            (try? QueueName.validate(name)) != nil || (try? QueueName.validate(name, fifo: true)) != nil
        else { throw invalid("Invalid value for deadLetterTargetArn.") }
        guard QueueName.isFIFO(name) == sourceIsFIFO else {
            throw invalid("Dead-letter target owner queue must be of the same type as the source queue.")  // [inferred]
        }
        return RedrivePolicy(deadLetterTargetQueue: name, deadLetterTargetArn: arn, maxReceiveCount: count)
    }

    /// The JSON GetQueueAttributes returns (maxReceiveCount as a number, as SQS does).
    var json: String {
        "{\"deadLetterTargetArn\":\(JSONValue.quoted(deadLetterTargetArn)),\"maxReceiveCount\":\(maxReceiveCount)}"
    }
}
