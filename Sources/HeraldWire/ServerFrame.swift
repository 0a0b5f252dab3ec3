import HeraldCore

/// A frame the server sends (docs/PROTOCOL.md §"Server frames").
public enum ServerFrame: Sendable, Hashable {
    /// `INFO {json}`: first frame on every connection.
    case info(ServerInfo)
    /// `CONNOK {json}`: CONNECT accepted; says which session is in effect and whether it was resumed.
    case connected(ConnectAccepted)
    /// `PUBOK <request-id> <message-id>`.
    case published(requestID: UInt64, messageID: MessageID)
    /// `SUBOK <sid>`.
    case subscribed(sid: UInt64)
    /// `UNSUBOK <sid>`: after it, no more MSG frames arrive for that sid.
    case unsubscribed(sid: UInt64)
    /// `MSG <sid> <delivery-tag> <topic> <message-id> <attributes-length> <body-length> [redelivered] [group=<id>]`.
    case message(DeliveryFrame)
    /// `QRES <request-id> <json-length>`: the JSON answer to a QREQ (replies may come in any order).
    case queueResponse(QueueResponseFrame)
    /// `ERR <code> <reference> <message>`.
    case error(ErrorFrame)
    case ping
    case pong
}

/// One delivery to a subscription. `attributes` is the encoded attribute section (`AttributeCodec`).
public struct DeliveryFrame: Sendable, Hashable {
    public var sid: UInt64
    /// Per-subscription, increasing; the client ACKs it.
    public var deliveryTag: UInt64
    public var topic: String
    public var messageID: MessageID
    public var attributes: [UInt8]
    public var body: [UInt8]
    /// Set when this message was delivered before (to this session) and not acked.
    public var redelivered: Bool
    /// The FIFO message group, when the message has one.
    public var groupID: String?

    public init(sid: UInt64, deliveryTag: UInt64, topic: String, messageID: MessageID, attributes: [UInt8] = [], body: [UInt8], redelivered: Bool = false, groupID: String? = nil) {
        self.sid = sid
        self.deliveryTag = deliveryTag
        self.topic = topic
        self.messageID = messageID
        self.attributes = attributes
        self.body = body
        self.redelivered = redelivered
        self.groupID = groupID
    }
}

/// What an `ERR` frame refers to: `-` (the connection), a PUB request id (`42`), or a subscription id
/// (`sid=7`, for SUB/UNSUB/CREDIT/ACK and for a subscription the server drops).
public enum ErrorReference: Sendable, Hashable {
    case none
    case request(UInt64)
    case subscription(UInt64)
}

/// An `ERR` frame. `message` is one line: the encoder replaces CR, LF and other control characters
/// with spaces and caps it at `ErrorFrame.maxMessageBytes`.
public struct ErrorFrame: Sendable, Hashable {
    public static let maxMessageBytes = 1024

    public var code: HeraldErrorCode
    public var reference: ErrorReference
    public var message: String

    public init(code: HeraldErrorCode, reference: ErrorReference = .none, message: String) {
        self.code = code
        self.reference = reference
        self.message = message
    }

    public init(_ error: HeraldError, reference: ErrorReference = .none) {
        self.init(code: error.code, reference: reference, message: error.message)
    }

    public init(_ error: WireError) {
        self.init(code: error.heraldCode, reference: error.reference, message: error.message)
    }
}

/// INFO's JSON. Keys: `server`, `version`, `proto`, `max_line`, `max_payload`, `max_attributes_bytes`,
/// `max_policy`, `max_queue_request`, `max_message`, `max_attributes`, `max_subscriptions`, `heartbeat_ms`. Unknown keys
/// are ignored by decoders.
public struct ServerInfo: Sendable, Hashable {
    public var serverName: String
    public var version: String
    public var protocolVersion: Int
    /// The wire limits the server's decoder enforces.
    public var limits: WireLimits
    /// SNS message size (body + attribute names, types, values) and attribute count.
    public var maxMessageBytes: Int
    public var maxAttributes: Int
    public var maxSubscriptions: Int
    /// The server PINGs after this much silence and closes after twice this without traffic.
    public var heartbeatIntervalMilliseconds: Int

    public init(
        serverName: String, version: String, protocolVersion: Int = HeraldProtocol.version, limits: WireLimits = .default,
        maxMessageBytes: Int = MessageLimits.sns.maxMessageBytes, maxAttributes: Int = MessageLimits.sns.maxAttributes,
        maxSubscriptions: Int = 1024, heartbeatIntervalMilliseconds: Int = 30_000
    ) {
        self.serverName = serverName
        self.version = version
        self.protocolVersion = protocolVersion
        self.limits = limits
        self.maxMessageBytes = maxMessageBytes
        self.maxAttributes = maxAttributes
        self.maxSubscriptions = maxSubscriptions
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
    }
}

/// CONNOK's JSON: `{"session":"…","resumed":true}`.
public struct ConnectAccepted: Sendable, Hashable {
    /// The session id in effect (the one asked for, or one the server made up).
    public var session: String
    /// True when an existing session was resumed (its unacked messages will be redelivered).
    public var resumed: Bool

    public init(session: String, resumed: Bool) {
        self.session = session
        self.resumed = resumed
    }
}
