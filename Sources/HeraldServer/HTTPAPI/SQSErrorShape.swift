import HeraldCore

/// How an error looks on the SQS JSON protocol (spec/aws-api.md §2.5 and Appendix A): the JSON
/// `__type` (`com.amazonaws.sqs#<Shape>`), the legacy query code the SDKs show users (sent in
/// `x-amzn-query-error: <code>;<Sender|Receiver>`), and the HTTP status. Pure.
struct SQSErrorShape: Sendable, Hashable {
    /// The error shape's name, e.g. `QueueDoesNotExist`.
    var shape: String
    /// The legacy query code, e.g. `AWS.SimpleQueueService.NonExistentQueue`.
    var queryCode: String
    var status: Int
    /// True for the server's faults (`Receiver`), false for the caller's (`Sender`).
    var isServerFault: Bool = false

    var type: String { "com.amazonaws.sqs#\(shape)" }
    var queryErrorHeader: String { "\(queryCode);\(isServerFault ? "Receiver" : "Sender")" }

    /// The shape of a Herald error code. Codes SQS models take its shape and legacy code; the
    /// unmodelled ones (`InvalidParameterValue`, `MissingParameter`, `InvalidAction`…) use the code
    /// for both, as moto does; Herald's own codes map to the nearest AWS one.
    init(_ code: HeraldErrorCode) {
        let legacy = "AWS.SimpleQueueService."
        switch code {
        case .queueDoesNotExist: self.init(shape: "QueueDoesNotExist", queryCode: legacy + "NonExistentQueue", status: 400)
        case .queueAlreadyExists: self.init(shape: "QueueNameExists", queryCode: "QueueAlreadyExists", status: 400)
        case .purgeQueueInProgress: self.init(shape: "PurgeQueueInProgress", queryCode: legacy + "PurgeQueueInProgress", status: 403)
        case .overLimit: self.init(shape: "OverLimit", queryCode: "OverLimit", status: 403)
        case .messageNotInflight, .batchEntryIdsNotDistinct, .batchRequestTooLong, .emptyBatchRequest, .invalidBatchEntryId,
             .tooManyEntriesInBatchRequest:
            self.init(shape: code.rawValue, queryCode: legacy + code.rawValue, status: 400)
        case .receiptHandleIsInvalid, .invalidAttributeName, .invalidAttributeValue, .invalidParameterValue, .missingParameter, .invalidAction:
            self.init(shape: code.rawValue, queryCode: code.rawValue, status: 400)
        case .invalidParameter, .parameterValueInvalid, .validationError, .invalidFilterPolicy:
            self.init(shape: "InvalidParameterValue", queryCode: "InvalidParameterValue", status: 400)
        case .notAuthorized: self.init(shape: "AccessDenied", queryCode: "AccessDenied", status: 403)
        case .authenticationFailed: self.init(shape: "InvalidClientTokenId", queryCode: "InvalidClientTokenId", status: 403)
        case .notFound: self.init(shape: "ResourceNotFoundException", queryCode: "ResourceNotFoundException", status: 404)
        case .throttled: self.init(shape: "RequestThrottled", queryCode: "RequestThrottled", status: 400)
        case .storageUnavailable, .shuttingDown:
            self.init(shape: "ServiceUnavailable", queryCode: "ServiceUnavailable", status: 503, isServerFault: true)
        case .internal: self.init(shape: "InternalFailure", queryCode: "InternalFailure", status: 500, isServerFault: true)
        default: self.init(shape: code.rawValue, queryCode: code.rawValue, status: 400)
        }
    }

    init(shape: String, queryCode: String, status: Int, isServerFault: Bool = false) {
        self.shape = shape
        self.queryCode = queryCode
        self.status = status
        self.isServerFault = isServerFault
    }

    /// What a request gets for an `X-Amz-Target` naming no SQS operation (AWS's JSON services
    /// answer `UnknownOperationException`, 400).
    static let unknownOperation = SQSErrorShape(shape: "UnknownOperationException", queryCode: "UnknownOperationException", status: 400)
    /// A path that names nothing Herald serves.
    static let notFound = SQSErrorShape(shape: "ResourceNotFoundException", queryCode: "ResourceNotFoundException", status: 404)
    /// A request the API cannot read as SQS JSON (wrong method or content type).
    static let invalidRequest = SQSErrorShape(shape: "InvalidRequest", queryCode: "InvalidRequest", status: 400)
    /// Credentials refused: an `Authorization` header that is not SigV4, or no access allowed.
    static let incompleteSignature = SQSErrorShape(shape: "IncompleteSignature", queryCode: "IncompleteSignature", status: 403)
    static let invalidClientTokenId = SQSErrorShape(shape: "InvalidClientTokenId", queryCode: "InvalidClientTokenId", status: 403)
}
