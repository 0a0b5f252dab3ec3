import HeraldCore
import HeraldWire

/// One queue action as it goes on the wire: the SQS/SNS action name and its SQS JSON protocol
/// request body (docs/PROTOCOL.md §"Queues"). Queues are named by `QueueName`. The builders are pure,
/// so tests check the exact JSON each `HeraldClient` queue call sends; `HeraldClient` only ships them.
public struct QueueRequest: Sendable, Hashable {
    public var action: String
    public var body: JSONValue

    public init(action: String, body: JSONValue) {
        self.action = action
        self.body = body
    }

    /// The JSON text of `body`.
    public var json: [UInt8] {
        var out: [UInt8] = []
        body.write(to: &out)
        return out
    }

    /// The whole QREQ frame for `requestID`.
    public func frameBytes(requestID: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        FrameEncoder.appendQueueRequest(requestID: requestID, action: action, json: json, to: &out)
        return out
    }

    // MARK: - Queues

    public static func createQueue(name: String, attributes: [String: String] = [:]) -> QueueRequest {
        var members = [queueName(name)]
        if !attributes.isEmpty { members.append(.init(key: "Attributes", value: stringMap(attributes))) }
        return QueueRequest(action: "CreateQueue", body: .object(members))
    }

    public static func deleteQueue(name: String) -> QueueRequest {
        QueueRequest(action: "DeleteQueue", body: .object([queueName(name)]))
    }

    public static func purgeQueue(name: String) -> QueueRequest {
        QueueRequest(action: "PurgeQueue", body: .object([queueName(name)]))
    }

    public static func listQueues(prefix: String? = nil) -> QueueRequest {
        QueueRequest(action: "ListQueues", body: .object(prefix.map { [.init(key: "QueueNamePrefix", value: .string($0))] } ?? []))
    }

    /// `names` nil or empty: every attribute (`["All"]`).
    public static func queueAttributes(name: String, names: [String]? = nil) -> QueueRequest {
        let wanted = (names?.isEmpty ?? true) ? ["All"] : names ?? []
        return QueueRequest(action: "GetQueueAttributes", body: .object([queueName(name), .init(key: "AttributeNames", value: stringArray(wanted))]))
    }

    public static func setQueueAttributes(name: String, attributes: [String: String]) -> QueueRequest {
        QueueRequest(action: "SetQueueAttributes", body: .object([queueName(name), .init(key: "Attributes", value: stringMap(attributes))]))
    }

    // MARK: - Messages

    public static func send(queue: String, message: OutgoingMessage) -> QueueRequest {
        QueueRequest(action: "SendMessage", body: .object([queueName(queue)] + messageMembers(message)))
    }

    public static func sendBatch(queue: String, entries: [OutgoingBatchEntry]) -> QueueRequest {
        let list = entries.map { entry in
            JSONValue.object([.init(key: "Id", value: .string(entry.id))] + messageMembers(entry.message))
        }
        return QueueRequest(action: "SendMessageBatch", body: .object([queueName(queue), .init(key: "Entries", value: .array(list))]))
    }

    /// `max` 1–10, `waitSeconds` 0–20 (nil: the queue's default), `visibilitySeconds` overrides the
    /// queue's for the messages returned. Asks for every system and message attribute.
    public static func receive(queue: String, max: Int? = nil, waitSeconds: Int? = nil, visibilitySeconds: Int? = nil) -> QueueRequest {
        var members = [queueName(queue)]
        if let max { members.append(.init(key: "MaxNumberOfMessages", value: number(max))) }
        if let waitSeconds { members.append(.init(key: "WaitTimeSeconds", value: number(waitSeconds))) }
        if let visibilitySeconds { members.append(.init(key: "VisibilityTimeout", value: number(visibilitySeconds))) }
        members.append(.init(key: "MessageSystemAttributeNames", value: stringArray(["All"])))
        members.append(.init(key: "MessageAttributeNames", value: stringArray(["All"])))
        return QueueRequest(action: "ReceiveMessage", body: .object(members))
    }

    public static func deleteMessage(queue: String, receiptHandle: String) -> QueueRequest {
        QueueRequest(action: "DeleteMessage", body: .object([queueName(queue), .init(key: "ReceiptHandle", value: .string(receiptHandle))]))
    }

    public static func deleteBatch(queue: String, entries: [ReceiptEntry]) -> QueueRequest {
        let list = entries.map { entry in
            JSONValue.object([.init(key: "Id", value: .string(entry.id)), .init(key: "ReceiptHandle", value: .string(entry.receiptHandle))])
        }
        return QueueRequest(action: "DeleteMessageBatch", body: .object([queueName(queue), .init(key: "Entries", value: .array(list))]))
    }

    public static func changeVisibility(queue: String, receiptHandle: String, visibilitySeconds: Int) -> QueueRequest {
        QueueRequest(action: "ChangeMessageVisibility", body: .object([
            queueName(queue), .init(key: "ReceiptHandle", value: .string(receiptHandle)),
            .init(key: "VisibilityTimeout", value: number(visibilitySeconds)),
        ]))
    }

    public static func changeVisibilityBatch(queue: String, entries: [ReceiptEntry], visibilitySeconds: Int) -> QueueRequest {
        let list = entries.map { entry in
            JSONValue.object([
                .init(key: "Id", value: .string(entry.id)), .init(key: "ReceiptHandle", value: .string(entry.receiptHandle)),
                .init(key: "VisibilityTimeout", value: number(visibilitySeconds)),
            ])
        }
        return QueueRequest(action: "ChangeMessageVisibilityBatch", body: .object([queueName(queue), .init(key: "Entries", value: .array(list))]))
    }

    /// Moves the messages of dead-letter queue `source` back to `destination` (nil: to the queues
    /// they came from).
    public static func redrive(source: String, destination: String? = nil) -> QueueRequest {
        var members: [JSONValue.Member] = [.init(key: "SourceQueueName", value: .string(source))]
        if let destination { members.append(.init(key: "DestinationQueueName", value: .string(destination))) }
        return QueueRequest(action: "StartMessageMoveTask", body: .object(members))
    }

    // MARK: - Subscriptions (SNS topic → SQS queue)

    /// `raw` is SNS `RawMessageDelivery` (the body alone instead of the SNS JSON envelope).
    public static func subscribe(topic: String, queue: String, filterPolicy: String? = nil, scope: FilterScope? = nil, raw: Bool = false) -> QueueRequest {
        subscribe(topic: topic, protocol: "sqs", endpoint: queue, filterPolicy: filterPolicy, scope: scope, raw: raw)
    }

    /// Any protocol: `sqs` (endpoint: a queue name or ARN), `http`/`https` (endpoint: the URL; the
    /// subscription waits for the endpoint to confirm it). `deliveryPolicy`/`redrivePolicy`: SNS's JSON.
    public static func subscribe(
        topic: String, protocol: String, endpoint: String, filterPolicy: String? = nil, scope: FilterScope? = nil, raw: Bool = false,
        deliveryPolicy: String? = nil, redrivePolicy: String? = nil
    ) -> QueueRequest {
        var attributes: [JSONValue.Member] = []
        if let filterPolicy { attributes.append(.init(key: "FilterPolicy", value: .string(filterPolicy))) }
        if let scope { attributes.append(.init(key: "FilterPolicyScope", value: .string(scope.rawValue))) }
        if raw { attributes.append(.init(key: "RawMessageDelivery", value: .string("true"))) }
        if let deliveryPolicy { attributes.append(.init(key: "DeliveryPolicy", value: .string(deliveryPolicy))) }
        if let redrivePolicy { attributes.append(.init(key: "RedrivePolicy", value: .string(redrivePolicy))) }
        var members: [JSONValue.Member] = [
            .init(key: "TopicName", value: .string(topic)), .init(key: "Protocol", value: .string(`protocol`)),
            .init(key: "Endpoint", value: .string(endpoint)),
        ]
        if !attributes.isEmpty { members.append(.init(key: "Attributes", value: .object(attributes))) }
        return QueueRequest(action: "Subscribe", body: .object(members))
    }

    public static func unsubscribe(arn: String) -> QueueRequest {
        QueueRequest(action: "Unsubscribe", body: .object([.init(key: "SubscriptionArn", value: .string(arn))]))
    }

    public static func getSubscriptionAttributes(arn: String) -> QueueRequest {
        QueueRequest(action: "GetSubscriptionAttributes", body: .object([.init(key: "SubscriptionArn", value: .string(arn))]))
    }

    public static func listSubscriptions(topic: String? = nil) -> QueueRequest {
        QueueRequest(action: "ListSubscriptions", body: .object(topic.map { [.init(key: "TopicName", value: .string($0))] } ?? []))
    }

    // MARK: - Pieces

    static func queueName(_ name: String) -> JSONValue.Member { .init(key: "QueueName", value: .string(name)) }

    static func number(_ value: Int) -> JSONValue { .number(String(value)) }

    static func stringArray(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

    /// Keys sorted, so the same map always gives the same bytes.
    static func stringMap(_ map: [String: String]) -> JSONValue {
        .object(map.keys.sorted().map { JSONValue.Member(key: $0, value: .string(map[$0] ?? "")) })
    }

    static func messageMembers(_ message: OutgoingMessage) -> [JSONValue.Member] {
        var members: [JSONValue.Member] = [.init(key: "MessageBody", value: .string(message.body))]
        if let delay = message.delaySeconds { members.append(.init(key: "DelaySeconds", value: number(delay))) }
        if !message.attributes.isEmpty { members.append(.init(key: "MessageAttributes", value: SQSAttributes.json(message.attributes))) }
        if let group = message.groupID { members.append(.init(key: "MessageGroupId", value: .string(group))) }
        if let dedup = message.deduplicationID { members.append(.init(key: "MessageDeduplicationId", value: .string(dedup))) }
        return members
    }
}

/// A message to send to a queue. SQS bodies are text (`MessageBody` is a JSON string).
public struct OutgoingMessage: Sendable, Hashable {
    public var body: String
    public var attributes: MessageAttributes
    public var delaySeconds: Int?
    public var groupID: String?
    public var deduplicationID: String?

    public init(body: String, attributes: MessageAttributes = [:], delaySeconds: Int? = nil, groupID: String? = nil, deduplicationID: String? = nil) {
        self.body = body
        self.attributes = attributes
        self.delaySeconds = delaySeconds
        self.groupID = groupID
        self.deduplicationID = deduplicationID
    }
}

/// One entry of a SendMessageBatch: `id` (1–80 of `A-Z a-z 0-9 _ -`) names it in the result.
public struct OutgoingBatchEntry: Sendable, Hashable {
    public var id: String
    public var message: OutgoingMessage

    public init(id: String, message: OutgoingMessage) {
        self.id = id
        self.message = message
    }
}

/// One entry of a DeleteMessageBatch / ChangeMessageVisibilityBatch.
public struct ReceiptEntry: Sendable, Hashable {
    public var id: String
    public var receiptHandle: String

    public init(id: String, receiptHandle: String) {
        self.id = id
        self.receiptHandle = receiptHandle
    }
}
