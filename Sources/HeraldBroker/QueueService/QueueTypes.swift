import HeraldCore
import HeraldStore

/// One message sent straight to a queue (SQS SendMessage), validated by the caller.
public struct QueueSendRequest: Sendable {
    public var body: [UInt8]
    public var attributes: MessageAttributes
    /// Per-message delay; nil = the queue's `DelaySeconds`.
    public var delaySeconds: Int?
    public var groupID: String?
    public var deduplicationID: String?

    public init(body: [UInt8], attributes: MessageAttributes = [:], delaySeconds: Int? = nil, groupID: String? = nil, deduplicationID: String? = nil) {
        self.body = body
        self.attributes = attributes
        self.delaySeconds = delaySeconds
        self.groupID = groupID
        self.deduplicationID = deduplicationID
    }
}

/// What a send was told: the message id (the first one's, for a deduplicated FIFO send).
public struct QueueSendResult: Sendable, Hashable {
    public var messageID: String
    public var sequenceNumber: String?
}

/// A message handed out by a receive, with what SQS reports about it.
public struct ReceivedQueueMessage: Sendable {
    public var messageID: String
    public var receiptHandle: String
    /// The body the consumer sees: the published bytes (raw delivery, direct sends) or SNS's JSON
    /// envelope, rendered by the `QueueMessageRenderer`.
    public var body: [UInt8]
    /// Message attributes the consumer sees (none for an enveloped message: they are in the body).
    public var attributes: MessageAttributes
    public var receiveCount: Int
    public var sentAtMillis: Int64
    public var firstReceiveAtMillis: Int64
    public var groupID: String?
    public var deduplicationID: String?
    /// The queue it was moved from, for a message a dead-letter queue received.
    public var deadLetterSourceQueue: String?
}

/// Turns a stored message into the body a queue consumer sees when it came through a topic
/// subscription without raw delivery (SNS's signed JSON envelope). The server provides it; the
/// broker knows no keys.
public protocol QueueMessageRenderer: Sendable {
    func envelope(for message: StoredMessage, subscription: String) -> [UInt8]
}

/// Where a topic subscription delivers when its protocol is `sqs`.
public struct QueueSubscriptionRoute: Sendable, Hashable {
    public var queue: String
    public var subscription: String
    public var raw: Bool
    /// The subscription's protocol (`sqs`, `http`, `https`, `stream`): which text of an SNS
    /// `MessageStructure=json` publish the queue gets (`ProtocolBodies.body(for:)`).
    public var protocolName: String

    public init(queue: String, subscription: String, raw: Bool, protocolName: String = "sqs") {
        self.queue = queue
        self.subscription = subscription
        self.raw = raw
        self.protocolName = protocolName
    }
}

/// A queue as `ListQueues`/`GetQueueAttributes` see it.
public struct QueueSummary: Sendable, Hashable {
    public var name: String
    public var attributes: QueueAttributes
    public var createdAtMillis: Int64
    public var visible: Int
    public var inFlight: Int
    public var delayed: Int
}
