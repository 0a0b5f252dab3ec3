import HeraldCore

extension Broker {
    /// What the broker refuses in a publish to an existing topic, beyond the message checks front
    /// ends run (`MessageValidator`): SNS requires a message group id on a FIFO topic (a name
    /// ending in `.fifo`). Nil when the request may go ahead. Runs per publish: the common cases
    /// (a group id given, a name not ending in `o`) return without scanning the name.
    static func topicProblem(_ request: PublishRequest, topic: String) -> BrokerError? {
        guard request.groupID?.isEmpty ?? true, topic.utf8.last == UInt8(ascii: "o"), TopicName.isFIFO(topic) else {
            return nil
        }
        return .invalidParameter("The MessageGroupId parameter is required for FIFO topics")
    }
}
