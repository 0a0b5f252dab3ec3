import HeraldCore

extension QueueManager {
    /// The checks of one SendMessage that need the queue's attributes, with SQS's texts (the front
    /// end has already checked the body's characters and the attributes' names and values).
    static func checkSend(_ request: QueueSendRequest, attributes: QueueAttributes) -> Result<Void, HeraldError> {
        if request.body.isEmpty {
            return .failure(HeraldError(.missingParameter, "The request must contain the parameter MessageBody."))
        }
        var size = request.body.count
        for (name, value) in request.attributes { size += value.sizeInBytes(name: name) }
        if size > attributes.maximumMessageSize {
            return .failure(HeraldError(.invalidParameterValue, "One or more parameters are invalid. Reason: Message must be shorter than \(attributes.maximumMessageSize) bytes."))
        }
        if request.attributes.count > 10 {
            return .failure(HeraldError(.invalidParameterValue, "Number of message attributes [\(request.attributes.count)] exceeds the allowed maximum [10]."))
        }
        if let delay = request.delaySeconds {
            if attributes.fifo {
                return .failure(HeraldError(.invalidParameterValue, "Value \(delay) for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."))
            }
            if !(0...900).contains(delay) {
                return .failure(HeraldError(.invalidParameterValue, "Value \(delay) for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided."))
            }
        }
        if attributes.fifo {
            guard let group = request.groupID else {
                return .failure(HeraldError(.missingParameter, "The request must contain the parameter MessageGroupId."))
            }
            if !isFIFOIdentifier(group) {
                return .failure(HeraldError(.invalidParameterValue, "Value \(group) for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length."))
            }
            if let dedup = request.deduplicationID, !isFIFOIdentifier(dedup) {
                return .failure(HeraldError(.invalidParameterValue, "Value \(dedup) for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length."))
            }
            if request.deduplicationID == nil && !attributes.contentBasedDeduplication {
                return .failure(HeraldError(.invalidParameterValue, "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"))
            }
        } else if let dedup = request.deduplicationID {
            return .failure(HeraldError(.invalidParameterValue, "Value \(dedup) for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type."))
        }
        return .success(())
    }

    /// SQS group and deduplication ids: 1–128 alphanumerics and punctuation.
    static func isFIFOIdentifier(_ text: String) -> Bool {
        let bytes = text.utf8
        guard (1...128).contains(bytes.count) else { return false }
        return bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
