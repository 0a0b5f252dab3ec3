import HeraldBroker
import HeraldCore

/// SNS's topic actions over the stream protocol's QREQ frame, in SNS's JSON shapes:
/// `CreateTopic` {"Name", "Attributes"?} → {"TopicArn"}, `DeleteTopic` {"TopicArn"} → {},
/// `ListTopics` {} → {"Topics": [{"TopicArn"}]}. A thin front of `HeraldService`'s
/// createTopic/deleteTopic/listTopics (same permissions as the SNS HTTP API); the richer topic
/// layer (attributes, persistence) takes its place behind these shapes.
///
/// Contract: `ServerSession.handleQueueRequest` calls `handle` on the connection's queue; it never
/// blocks and answers nil for every action that is not a topic action (QueueAPI's).
enum StreamTopicActions {
    static let actions: Set<String> = ["CreateTopic", "DeleteTopic", "ListTopics"]

    /// Topic attributes this layer understands; others are refused rather than silently dropped.
    static let knownAttributes: Set<String> = ["FifoTopic"]

    static func handle(action: String, body: [UInt8], service: HeraldService, principal: Principal) -> Result<JSONValue, HeraldError>? {
        guard actions.contains(action) else { return nil }
        let identity = service.context.queues.withLock { $0 }?.identity ?? QueueIdentity()
        do throws(HeraldError) {
            let request = try ActionRequest(body)
            switch action {
            case "CreateTopic":
                let name = try request.requiredString("Name")
                try checkAttributes(try request.stringMap("Attributes"), name: name)
                try service.createTopic(name, principal: principal)
                return .success(.object([.init(key: "TopicArn", value: .string(identity.topicARN(name)))]))
            case "DeleteTopic":
                try service.deleteTopic(try topicName(request), principal: principal)
                return .success(.object([]))
            default:
                let topics = service.listTopics(principal: principal).map {
                    JSONValue.object([.init(key: "TopicArn", value: .string(identity.topicARN($0)))])
                }
                return .success(.object([.init(key: "Topics", value: .array(topics))]))
            }
        } catch {
            return .failure(error)
        }
    }

    /// `FifoTopic` must agree with the name (SNS's rule); anything else is not kept by this layer yet.
    private static func checkAttributes(_ attributes: [String: String], name: String) throws(HeraldError) {
        for key in attributes.keys.sorted() where !knownAttributes.contains(key) {
            throw HeraldError(.invalidParameter, "Invalid parameter: Attributes Reason: \(key) is not supported by this server")
        }
        if let fifo = attributes["FifoTopic"] {
            guard fifo == "true" || fifo == "false" else {
                throw HeraldError(.invalidParameter, "Invalid parameter: Attributes Reason: FifoTopic must be true or false")
            }
            if (fifo == "true") != TopicName.isFIFO(name) {
                throw HeraldError(.invalidParameter, "Invalid parameter: Fifo Topic names must end with .fifo and Standard Topic cannot end with .fifo")
            }
        }
    }

    /// The topic a `TopicArn` names (`arn:aws:sns:REGION:ACCOUNT:NAME`).
    private static func topicName(_ request: ActionRequest) throws(HeraldError) -> String {
        let arn = try request.requiredString("TopicArn")
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard arn.hasPrefix("arn:aws:sns:"), parts.count == 6, let name = parts.last, !name.isEmpty else {
            throw HeraldError(.invalidParameter, "Invalid parameter: TopicArn")
        }
        return String(name)
    }
}
