import HeraldCore

// SNS's topic actions over QREQ/QRES (docs/PROTOCOL.md §12, "Topics"), in SNS's JSON shapes.
// Same contract as the queue calls: blocking, never from a message handler.
extension HeraldClient {
    /// SNS CreateTopic (an existing topic is no error); returns the topic ARN.
    @discardableResult
    public func createTopic(name: String, attributes: [String: String] = [:], timeout: Duration = .seconds(30)) throws(ClientError) -> String {
        let json = try perform(.createTopic(name: name, attributes: attributes), timeout: timeout)
        return try ResponseReader.requiredString(json, "TopicArn", context: "CreateTopic")
    }

    /// SNS DeleteTopic: the topic and its subscriptions (a topic that does not exist is no error).
    public func deleteTopic(arn: String, timeout: Duration = .seconds(30)) throws(ClientError) {
        _ = try perform(.deleteTopic(arn: arn), timeout: timeout)
    }

    /// SNS ListTopics: the ARNs of the topics this client may publish or subscribe to.
    public func listTopics(timeout: Duration = .seconds(30)) throws(ClientError) -> [String] {
        let json = try perform(.listTopics(), timeout: timeout)
        var arns: [String] = []
        for (index, element) in try ResponseReader.array(json["Topics"], context: "Topics").enumerated() {
            arns.append(try ResponseReader.requiredString(element, "TopicArn", context: "Topics[\(index)]"))
        }
        return arns
    }
}

extension QueueRequest {
    public static func createTopic(name: String, attributes: [String: String] = [:]) -> QueueRequest {
        var members: [JSONValue.Member] = [.init(key: "Name", value: .string(name))]
        if !attributes.isEmpty { members.append(.init(key: "Attributes", value: stringMap(attributes))) }
        return QueueRequest(action: "CreateTopic", body: .object(members))
    }

    public static func deleteTopic(arn: String) -> QueueRequest {
        QueueRequest(action: "DeleteTopic", body: .object([.init(key: "TopicArn", value: .string(arn))]))
    }

    public static func listTopics() -> QueueRequest {
        QueueRequest(action: "ListTopics", body: .object([]))
    }
}
