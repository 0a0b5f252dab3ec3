/// The catalog of client-visible error codes: the one place they are defined. They travel in `ERR`
/// frames (see docs/PROTOCOL.md) and in HTTP error bodies. A code is a stable ASCII token; the message
/// next to it is for humans and may change. Codes are a struct, not an enum, so a client built against
/// an older catalog still decodes (and can show) codes it does not know.
public struct HeraldErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    // SNS-compatible codes (same spelling as SNS; messages follow SNS texts where SNS has one).

    /// A topic or the whole server already holds its configured maximum of subscriptions
    /// (`limits.maxSubscriptionsPerTopic`, `limits.maxSubscriptions`). (SNS `SubscriptionLimitExceeded`.)
    public static let subscriptionLimitExceeded = HeraldErrorCode(rawValue: "SubscriptionLimitExceeded")
    /// Creating a topic (auto-create on first use) would pass the server's topic limit. (SNS `TopicLimitExceeded`.)
    public static let topicLimitExceeded = HeraldErrorCode(rawValue: "TopicLimitExceeded")
    /// A request parameter is invalid: "Invalid parameter: Empty message", "… Message too long",
    /// "… Topic Name", filter-policy reasons. (SNS `InvalidParameter`.)
    public static let invalidParameter = HeraldErrorCode(rawValue: "InvalidParameter")
    /// A message-attribute name, type or value is invalid. (SNS `ParameterValueInvalid`.)
    public static let parameterValueInvalid = HeraldErrorCode(rawValue: "ParameterValueInvalid")
    /// A required member is missing (SNS `ValidationError`, e.g. an attribute without a data type).
    public static let validationError = HeraldErrorCode(rawValue: "ValidationError")
    /// Topic, subscription id or delivery tag does not exist. (SNS `NotFound`.)
    public static let notFound = HeraldErrorCode(rawValue: "NotFound")

    // SQS-compatible codes. The raw value is the SQS JSON error shape's name (`__type` after `#`);
    // the HTTP layer adds the legacy query code where SQS has one (spec/aws-api.md Appendix A, e.g.
    // queueDoesNotExist → `AWS.SimpleQueueService.NonExistentQueue`).

    /// "The specified queue does not exist."
    public static let queueDoesNotExist = HeraldErrorCode(rawValue: "QueueDoesNotExist")
    /// CreateQueue with an existing name and different attributes (legacy code `QueueAlreadyExists`).
    public static let queueAlreadyExists = HeraldErrorCode(rawValue: "QueueAlreadyExists")
    /// A request parameter's value is out of range or malformed ("Value X for parameter Y is invalid. Reason: …").
    public static let invalidParameterValue = HeraldErrorCode(rawValue: "InvalidParameterValue")
    /// A required parameter is absent ("The request must contain the parameter MessageGroupId.").
    public static let missingParameter = HeraldErrorCode(rawValue: "MissingParameter")
    /// A receipt handle that Herald did not issue (malformed, or for another queue).
    public static let receiptHandleIsInvalid = HeraldErrorCode(rawValue: "ReceiptHandleIsInvalid")
    /// ChangeMessageVisibility on a message that is not in flight.
    public static let messageNotInflight = HeraldErrorCode(rawValue: "MessageNotInflight")
    /// The queue's in-flight limit is reached (standard queues, about 120,000).
    public static let overLimit = HeraldErrorCode(rawValue: "OverLimit")
    /// A second PurgeQueue within 60 s.
    public static let purgeQueueInProgress = HeraldErrorCode(rawValue: "PurgeQueueInProgress")
    /// A batch with more than 10 entries.
    public static let tooManyEntriesInBatchRequest = HeraldErrorCode(rawValue: "TooManyEntriesInBatchRequest")
    /// Two batch entries share an Id.
    public static let batchEntryIdsNotDistinct = HeraldErrorCode(rawValue: "BatchEntryIdsNotDistinct")
    /// A batch with no entries.
    public static let emptyBatchRequest = HeraldErrorCode(rawValue: "EmptyBatchRequest")
    /// A batch entry Id that is not 1–80 of `A-Za-z0-9_-`.
    public static let invalidBatchEntryId = HeraldErrorCode(rawValue: "InvalidBatchEntryId")
    /// A batch whose messages together exceed the size limit.
    public static let batchRequestTooLong = HeraldErrorCode(rawValue: "BatchRequestTooLong")
    /// A queue attribute name SQS does not know (or not for this queue type): "Unknown Attribute X."
    public static let invalidAttributeName = HeraldErrorCode(rawValue: "InvalidAttributeName")
    /// A queue attribute value out of range: "Invalid value for the parameter X."
    public static let invalidAttributeValue = HeraldErrorCode(rawValue: "InvalidAttributeValue")
    /// The action named in a request does not exist. (SQS/SNS `InvalidAction`.)
    public static let invalidAction = HeraldErrorCode(rawValue: "InvalidAction")

    // Herald codes.

    /// The filter policy of a SUB was rejected; the message carries SNS's reason text.
    public static let invalidFilterPolicy = HeraldErrorCode(rawValue: "InvalidFilterPolicy")
    /// The credentials in CONNECT were missing or wrong. Fatal: the connection closes.
    public static let authenticationFailed = HeraldErrorCode(rawValue: "AuthenticationFailed")
    /// The authenticated client may not publish to / subscribe to that topic, or (in answer to
    /// CONNECT, then fatal) may not resume the session it named: it belongs to another identity.
    public static let notAuthorized = HeraldErrorCode(rawValue: "NotAuthorized")
    /// The connection already has the maximum number of subscriptions.
    public static let tooManySubscriptions = HeraldErrorCode(rawValue: "TooManySubscriptions")
    /// SUB with a subscription id that is already in use on this connection.
    public static let duplicateSubscription = HeraldErrorCode(rawValue: "DuplicateSubscription")
    /// A consumer stayed slow past the server's policy; its subscription (or connection) is dropped.
    public static let slowConsumer = HeraldErrorCode(rawValue: "SlowConsumer")
    /// Another connection of the same identity resumed this connection's session (CONNECT with its
    /// session id). Fatal: this connection closes; its ack-mode subscriptions went to the newcomer.
    public static let sessionTakenOver = HeraldErrorCode(rawValue: "SessionTakenOver")
    /// The session ended (taken over, or cut off as a slow consumer) while this frame was on its
    /// way; the fatal error that closes the connection follows.
    public static let sessionClosed = HeraldErrorCode(rawValue: "SessionClosed")
    /// The server sheds load; the request may be retried later.
    public static let throttled = HeraldErrorCode(rawValue: "Throttled")
    /// The peer broke the protocol (unknown verb, malformed line, bad attribute section, missing
    /// CONNECT…). Fatal when the byte stream cannot be trusted any more.
    public static let protocolError = HeraldErrorCode(rawValue: "ProtocolError")
    /// A frame declared sections larger than the limits announced in INFO. Fatal.
    public static let frameTooLarge = HeraldErrorCode(rawValue: "FrameTooLarge")
    /// The client asked for a protocol version the server does not speak. Fatal.
    public static let unsupportedProtocol = HeraldErrorCode(rawValue: "UnsupportedProtocol")
    /// Handshake, idle or heartbeat timeout. Fatal.
    public static let timeout = HeraldErrorCode(rawValue: "Timeout")
    /// The server is shutting down. Fatal.
    public static let shuttingDown = HeraldErrorCode(rawValue: "ShuttingDown")
    /// The message store could not make a write durable (disk full, I/O error): nothing of the
    /// request was confirmed; retry later. The server keeps serving receives and deletes.
    public static let storageUnavailable = HeraldErrorCode(rawValue: "StorageUnavailable")
    /// A bug or an unexpected failure on the server side.
    public static let `internal` = HeraldErrorCode(rawValue: "Internal")

    /// Every code the catalog defines, for documentation and tests.
    public static let all: [HeraldErrorCode] = [
        .invalidParameter, .parameterValueInvalid, .validationError, .notFound,
        .invalidFilterPolicy, .authenticationFailed, .notAuthorized, .tooManySubscriptions,
        .subscriptionLimitExceeded, .topicLimitExceeded, .duplicateSubscription, .slowConsumer, .sessionTakenOver, .sessionClosed, .throttled, .protocolError,
        .frameTooLarge, .unsupportedProtocol, .timeout, .shuttingDown, .internal,
        .queueDoesNotExist, .queueAlreadyExists, .invalidParameterValue, .missingParameter, .receiptHandleIsInvalid,
        .messageNotInflight, .overLimit, .purgeQueueInProgress, .tooManyEntriesInBatchRequest, .batchEntryIdsNotDistinct,
        .emptyBatchRequest, .invalidBatchEntryId, .batchRequestTooLong, .invalidAttributeName, .invalidAttributeValue,
        .invalidAction, .storageUnavailable,
    ]

    /// Whether the token is a well-formed code: 1–64 ASCII letters and digits. Decoders accept any
    /// well-formed code, known or not.
    public static func isWellFormed<S: Sequence<UInt8>>(_ utf8: S) -> Bool {
        var count = 0
        for byte in utf8 {
            count += 1
            let ok = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            if !ok || count > 64 { return false }
        }
        return count > 0
    }
}

/// HeraldCore's error: a client-visible code and a human message (SNS's exact text where SNS has one).
public struct HeraldError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: HeraldErrorCode
    public var message: String

    public init(_ code: HeraldErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
