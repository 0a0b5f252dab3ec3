import HeraldCore

/// A frame a client sends (docs/PROTOCOL.md §"Client frames").
public enum ClientFrame: Sendable, Hashable {
    /// `CONNECT {json}`: credentials, client name, optional session to resume, protocol version.
    case connect(ConnectOptions)
    /// `PUB <topic> <request-id> <attributes-length> <body-length> [group=<id>] [dedup=<id>]`.
    case publish(PublishFrame)
    /// `SUB <sid> <topic> <scope> <ack-mode> <credit> <policy-length>`.
    case subscribe(SubscribeFrame)
    /// `UNSUB <sid>`.
    case unsubscribe(sid: UInt64)
    /// `CREDIT <sid> <n>`: allow `n` more MSG frames on the subscription.
    case credit(sid: UInt64, count: UInt32)
    /// `ACK <sid> <tag-or-range>[,<tag-or-range>…]`.
    case ack(sid: UInt64, tags: [ClosedRange<UInt64>])
    /// `QREQ <request-id> <action> <json-length>`: one SQS/SNS queue action (docs/PROTOCOL.md §"Queues").
    case queueRequest(QueueRequestFrame)
    /// `PING` / `PONG` (either side may ping; the other answers PONG).
    case ping
    case pong
}

/// The fields of a PUB frame. `attributes` is the encoded attribute section (`AttributeCodec`), kept
/// encoded so the broker can pass it through to MSG frames without re-encoding.
public struct PublishFrame: Sendable, Hashable {
    public var topic: String
    public var requestID: UInt64
    public var attributes: [UInt8]
    public var body: [UInt8]
    /// FIFO message group id and deduplication id (1–128 printable ASCII characters, no spaces).
    public var groupID: String?
    public var deduplicationID: String?

    public init(topic: String, requestID: UInt64, attributes: [UInt8] = [], body: [UInt8], groupID: String? = nil, deduplicationID: String? = nil) {
        self.topic = topic
        self.requestID = requestID
        self.attributes = attributes
        self.body = body
        self.groupID = groupID
        self.deduplicationID = deduplicationID
    }

    /// Builds a PUB from typed attributes, encoding them with `AttributeCodec`.
    public init(topic: String, requestID: UInt64, attributes: MessageAttributes, body: [UInt8], groupID: String? = nil, deduplicationID: String? = nil) {
        self.init(topic: topic, requestID: requestID, attributes: AttributeCodec.encode(attributes), body: body, groupID: groupID, deduplicationID: deduplicationID)
    }
}

/// What a subscription's filter policy applies to (SNS `FilterPolicyScope`).
public enum FilterScope: String, Sendable, Hashable {
    case messageAttributes = "MessageAttributes"
    case messageBody = "MessageBody"
}

/// `ack`: at-least-once, each MSG stays outstanding until ACKed (redelivered after reconnect of a
/// resumed session). `auto`: at-most-once, a MSG counts as acked once written.
public enum AckMode: String, Sendable, Hashable {
    case ack
    case auto
}

/// The fields of a SUB frame. An empty `policy` means "no filter policy: receive everything".
/// `subscriptionName` (option `subscription=<name>`) attaches to a subscription declared in the
/// server's configuration: its topic and filter policy come from there (and follow reloads).
public struct SubscribeFrame: Sendable, Hashable {
    public var sid: UInt64
    public var topic: String
    public var scope: FilterScope
    public var ackMode: AckMode
    public var credit: UInt32
    public var policy: [UInt8]
    public var subscriptionName: String?

    public init(
        sid: UInt64, topic: String, scope: FilterScope = .messageAttributes, ackMode: AckMode = .ack, credit: UInt32,
        policy: [UInt8] = [], subscriptionName: String? = nil
    ) {
        self.sid = sid
        self.topic = topic
        self.scope = scope
        self.ackMode = ackMode
        self.credit = credit
        self.policy = policy
        self.subscriptionName = subscriptionName
    }
}

/// CONNECT's JSON: `{"proto":1,"token":"…","name":"…","session":"…"}`. Unknown keys are ignored.
public struct ConnectOptions: Sendable, Hashable {
    public var protocolVersion: Int
    public var token: String?
    public var clientName: String?
    /// A session id to resume: the server redelivers the session's unacked messages when the client
    /// subscribes again with the same sid. Absent: a fresh session under a server-issued id. Only the
    /// identity that created a session may resume it; anonymous clients only an id the server
    /// issued them (docs/PROTOCOL.md §6.4).
    public var session: String?

    public init(protocolVersion: Int = HeraldProtocol.version, token: String? = nil, clientName: String? = nil, session: String? = nil) {
        self.protocolVersion = protocolVersion
        self.token = token
        self.clientName = clientName
        self.session = session
    }
}
