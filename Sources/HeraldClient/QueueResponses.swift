import HeraldCore

// Typed results of the queue actions, read from the SQS JSON response bodies (QRES). A body that
// lacks a member the action promises is `ClientError` "InvalidResponse", never a crash.

/// A message handed out by ReceiveMessage.
public struct ReceivedMessage: Sendable, Hashable {
    public var messageID: String
    /// Names this receipt: delete the message or change its visibility with it.
    public var receiptHandle: String
    /// The `Body` text's UTF-8 bytes.
    public var body: [UInt8]
    /// System attributes (`SentTimestamp`, `ApproximateReceiveCount`, `MessageGroupId`, …).
    public var attributes: [String: String]
    public var messageAttributes: MessageAttributes
    /// `ApproximateReceiveCount` (0 when the server did not send it).
    public var receiveCount: Int
    public var md5OfBody: String?

    public init(
        messageID: String, receiptHandle: String, body: [UInt8], attributes: [String: String] = [:],
        messageAttributes: MessageAttributes = [:], receiveCount: Int = 0, md5OfBody: String? = nil
    ) {
        self.messageID = messageID
        self.receiptHandle = receiptHandle
        self.body = body
        self.attributes = attributes
        self.messageAttributes = messageAttributes
        self.receiveCount = receiveCount
        self.md5OfBody = md5OfBody
    }

    /// The body as text (it was text on the wire).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    init(json: JSONValue, context: String) throws(ClientError) {
        guard case .object = json else { throw ResponseReader.invalid("\(context) must be an object") }
        let attributes = try ResponseReader.stringMap(json["Attributes"], context: "\(context).Attributes")
        var receiveCount = 0
        if let text = attributes["ApproximateReceiveCount"] {
            guard let count = Int(text), count >= 0 else { throw ResponseReader.invalid("\(context).Attributes.ApproximateReceiveCount '\(text)' is not a count") }
            receiveCount = count
        }
        self.init(
            messageID: try ResponseReader.requiredString(json, "MessageId", context: context),
            receiptHandle: try ResponseReader.requiredString(json, "ReceiptHandle", context: context),
            body: Array(try ResponseReader.requiredString(json, "Body", context: context).utf8),
            attributes: attributes,
            messageAttributes: try SQSAttributes.parse(json["MessageAttributes"], context: "\(context).MessageAttributes"),
            receiveCount: receiveCount,
            md5OfBody: try ResponseReader.optionalString(json, "MD5OfBody", context: context))
    }

    /// `{"Messages":[…]}`; an empty long poll answers `{}`.
    static func list(_ json: JSONValue) throws(ClientError) -> [ReceivedMessage] {
        var messages: [ReceivedMessage] = []
        for (index, element) in try ResponseReader.array(json["Messages"], context: "Messages").enumerated() {
            messages.append(try ReceivedMessage(json: element, context: "Messages[\(index)]"))
        }
        return messages
    }
}

/// SendMessage's answer.
public struct SentMessage: Sendable, Hashable {
    public var messageID: String
    public var md5OfMessageBody: String?
    /// FIFO queues only.
    public var sequenceNumber: String?

    public init(messageID: String, md5OfMessageBody: String? = nil, sequenceNumber: String? = nil) {
        self.messageID = messageID
        self.md5OfMessageBody = md5OfMessageBody
        self.sequenceNumber = sequenceNumber
    }

    init(json: JSONValue, context: String) throws(ClientError) {
        self.init(
            messageID: try ResponseReader.requiredString(json, "MessageId", context: context),
            md5OfMessageBody: try ResponseReader.optionalString(json, "MD5OfMessageBody", context: context),
            sequenceNumber: try ResponseReader.optionalString(json, "SequenceNumber", context: context))
    }
}

/// A batch action's answer: every entry id lands in exactly one of the two lists.
public struct BatchResult: Sendable, Hashable {
    public struct Success: Sendable, Hashable {
        public var id: String
        /// SendMessageBatch only.
        public var message: SentMessage?
    }

    public struct Failure: Sendable, Hashable {
        public var id: String
        public var code: String
        public var message: String
        public var senderFault: Bool
    }

    public var successful: [Success]
    public var failed: [Failure]

    init(json: JSONValue, withMessages: Bool) throws(ClientError) {
        successful = []
        for (index, element) in try ResponseReader.array(json["Successful"], context: "Successful").enumerated() {
            let context = "Successful[\(index)]"
            successful.append(Success(
                id: try ResponseReader.requiredString(element, "Id", context: context),
                message: withMessages ? try SentMessage(json: element, context: context) : nil))
        }
        failed = []
        for (index, element) in try ResponseReader.array(json["Failed"], context: "Failed").enumerated() {
            let context = "Failed[\(index)]"
            var senderFault = false
            if let value = element["SenderFault"], value != .null {
                guard case .bool(let flag) = value else { throw ResponseReader.invalid("\(context).SenderFault must be true or false") }
                senderFault = flag
            }
            failed.append(Failure(
                id: try ResponseReader.requiredString(element, "Id", context: context),
                code: try ResponseReader.requiredString(element, "Code", context: context),
                message: try ResponseReader.optionalString(element, "Message", context: context) ?? "",
                senderFault: senderFault))
        }
    }
}

/// StartMessageMoveTask's answer.
public struct MoveTask: Sendable, Hashable {
    public var taskHandle: String
    public var approximateNumberOfMessagesMoved: Int?
}

/// One entry of ListSubscriptions.
public struct SubscriptionSummary: Sendable, Hashable {
    public var subscriptionArn: String
    public var topicArn: String
    public var protocolName: String
    public var endpoint: String
}

/// Reading response members with "InvalidResponse" errors that name the member.
enum ResponseReader {
    static func invalid(_ message: String) -> ClientError {
        ClientError(code: "InvalidResponse", message: message)
    }

    static func optionalString(_ json: JSONValue, _ key: String, context: String) throws(ClientError) -> String? {
        guard let value = json[key], value != .null else { return nil }
        guard case .string(let text) = value else { throw invalid("\(context).\(key) must be a string") }
        return text
    }

    static func requiredString(_ json: JSONValue, _ key: String, context: String) throws(ClientError) -> String {
        guard let text = try optionalString(json, key, context: context) else { throw invalid("\(context) lacks \(key)") }
        return text
    }

    static func optionalInt(_ json: JSONValue, _ key: String, context: String) throws(ClientError) -> Int? {
        guard let value = json[key], value != .null else { return nil }
        switch value {
        case .number(let text), .string(let text):
            guard let number = Int(text) else { throw invalid("\(context).\(key) '\(text)' is not an integer") }
            return number
        default:
            throw invalid("\(context).\(key) must be a number")
        }
    }

    /// An absent or null list is empty (SQS leaves empty lists out).
    static func array(_ json: JSONValue?, context: String) throws(ClientError) -> [JSONValue] {
        guard let json, json != .null else { return [] }
        guard case .array(let elements) = json else { throw invalid("\(context) must be an array") }
        return elements
    }

    /// A `{name: string}` map; absent or null is empty.
    static func stringMap(_ json: JSONValue?, context: String) throws(ClientError) -> [String: String] {
        guard let json, json != .null else { return [:] }
        guard case .object(let members) = json else { throw invalid("\(context) must be an object") }
        var map: [String: String] = [:]
        for member in members {
            guard case .string(let text) = member.value else { throw invalid("\(context).\(member.key) must be a string") }
            map[member.key] = text
        }
        return map
    }
}
