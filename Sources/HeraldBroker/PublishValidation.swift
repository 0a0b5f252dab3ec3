import HeraldCore

extension Broker {
    /// SNS's text for a `MessageDeduplicationId` sent to a standard topic.
    static let deduplicationIDOnStandardTopic =
        "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type"

    /// What the broker refuses in a publish to an existing topic, beyond the message checks front
    /// ends run (`MessageValidator`): SNS requires a message group id on a FIFO topic (a name
    /// ending in `.fifo`) and refuses a deduplication id on a standard one. (A FIFO publish with
    /// neither a deduplication id nor content-based deduplication is the topic's deduplicator's
    /// to refuse: it knows the topic's setting.) Nil when the request may go ahead. Runs per
    /// publish: the common cases (a FIFO publish with a group id, a standard one with neither id,
    /// a name not ending in `o`) return without scanning the name.
    /// Takes the request's two fields, not the request: the publish loop reads them in place.
    static func topicProblem(groupID: String?, deduplicationID: String?, topic: String) -> BrokerError? {
        let groupMissing = groupID?.isEmpty ?? true
        guard groupMissing || deduplicationID != nil else { return nil }
        guard topic.utf8.last == UInt8(ascii: "o"), TopicName.isFIFO(topic) else {
            return deduplicationID == nil ? nil : .invalidParameter(deduplicationIDOnStandardTopic)
        }
        return groupMissing ? .invalidParameter("The MessageGroupId parameter is required for FIFO topics") : nil
    }
}
