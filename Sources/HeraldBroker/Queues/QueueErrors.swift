import HeraldCore

/// SQS's error texts for the queue state machine, in one place so the tests and the HTTP layer
/// quote the same words. Texts marked [spec] are recorded from AWS (spec/sns-spec.md §7); the
/// others are [inferred] from SQS's documented wording and may differ in detail.
enum QueueErrors {
    /// [spec]
    static func receiptHandleInvalid(_ text: String) -> HeraldError {
        HeraldError(.receiptHandleIsInvalid, "The input receipt handle \"\(text)\" is not a valid receipt handle.")
    }

    /// [spec] FIFO: a delete with a handle whose visibility timeout ran out.
    static func receiptHandleExpired(_ text: String) -> HeraldError {
        HeraldError(.invalidParameterValue, "Value \(text) for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.")
    }

    /// [inferred]
    static let messageNotInflight = HeraldError(.messageNotInflight, "Message does not exist or is not available for visibility timeout change.")

    /// [spec]
    static func overLimit(_ limit: Int) -> HeraldError {
        HeraldError(.overLimit, "The maximum number of in flight messages (\(limit)) is reached.")
    }

    /// [spec]
    static func purgeInProgress(_ queue: String) -> HeraldError {
        HeraldError(.purgeQueueInProgress, "Only one PurgeQueue operation on \(queue) is allowed every 60 seconds.")
    }

    /// [spec] MaxNumberOfMessages outside 1...10.
    static func maxNumberOfMessages(_ value: Int) -> HeraldError {
        HeraldError(.invalidParameterValue, "Value \(value) for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
    }

    /// [inferred] by analogy with MaxNumberOfMessages.
    static func visibilityTimeout(_ value: Int) -> HeraldError {
        HeraldError(.invalidParameterValue, "Value \(value) for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.")
    }

    /// [inferred] the 12-hour cap from the receive.
    static func visibilityBeyondLimit(_ value: Int) -> HeraldError {
        HeraldError(.invalidParameterValue, "Value \(value) for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]")
    }

    /// [inferred]
    static func delaySeconds(_ value: Int) -> HeraldError {
        HeraldError(.invalidParameterValue, "Value \(value) for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.")
    }

    /// [spec] a parameter the queue type does not take (per-message DelaySeconds on FIFO,
    /// MessageDeduplicationId on standard).
    static func notForQueueType(_ parameter: String, _ value: String) -> HeraldError {
        HeraldError(.invalidParameterValue, "Value \(value) for parameter \(parameter) is invalid. Reason: The request include parameter that is not valid for this queue type.")
    }

    /// [spec]
    static let missingGroupID = HeraldError(.missingParameter, "The request must contain the parameter MessageGroupId.")

    /// [spec]
    static let missingDeduplication = HeraldError(
        .invalidParameterValue, "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")

    /// [spec] MessageGroupId / MessageDeduplicationId outside 1–128 alphanumerics and punctuation.
    static func badFIFOID(_ parameter: String, _ value: String) -> HeraldError {
        HeraldError(
            .invalidParameterValue,
            "Value \(value) for parameter \(parameter) is invalid. Reason: \(parameter) can only include alphanumeric and punctuation characters. 1 to 128 in length.")
    }

    /// [spec]
    static func messageTooLong(_ limit: Int) -> HeraldError {
        HeraldError(.invalidParameterValue, "One or more parameters are invalid. Reason: Message must be shorter than \(limit) bytes.")
    }
}
