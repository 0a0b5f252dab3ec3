import HeraldBroker
import HeraldCore
import HeraldStore

/// Tags on queues (SQS TagQueue, UntagQueue, ListQueueTags) and topics (SNS TagResource,
/// UntagResource, ListTagsForResource), kept as `tags/<arn>` metadata: Herald stores and returns
/// them; nothing else reads them. At most 50 per resource, as AWS allows.
extension QueueAPI {
    static let tagPrefix = "tags/"
    static let maxTags = 50

    func tagQueue(_ request: ActionRequest, _ principal: Principal, untag: Bool, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.queueName()
        guard principal.permissions.allows(.publish, topic: name) else { throw HeraldError(.notAuthorized, "\(principal.name) may not tag queue \(name)") }
        guard manager.summary(name) != nil else { throw QueueManager.noSuchQueue }
        if untag {
            try changeTags(identity.queueARN(name), remove: try strings(request, "TagKeys"), add: [], reply)
        } else {
            try changeTags(identity.queueARN(name), remove: [], add: try request.stringMap("Tags").sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, reply)
        }
    }

    func listQueueTags(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.queueName()
        guard principal.permissions.allows(.publish, topic: name) || principal.permissions.allows(.subscribe, topic: name) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not read queue \(name)")
        }
        guard manager.summary(name) != nil else { throw QueueManager.noSuchQueue }
        let tags = storedTags(identity.queueARN(name))
        reply(.success(tags.isEmpty ? ActionResponse.object([]) : ActionResponse.object([("Tags", ActionResponse.strings(Dictionary(uniqueKeysWithValues: tags)))])))
    }

    /// SNS: `ResourceArn` of a topic; `Tags` [{Key, Value}] or `TagKeys` [key].
    func tagResource(_ request: ActionRequest, _ principal: Principal, untag: Bool, _ reply: @escaping Reply) throws(HeraldError) {
        let (arn, topic) = try topicResource(request)
        guard principal.permissions.allows(.publish, topic: topic) else { throw HeraldError(.notAuthorized, "\(principal.name) may not tag topic \(topic)") }
        if untag {
            try changeTags(arn, remove: try strings(request, "TagKeys"), add: [], reply)
        } else {
            var tags: [(String, String)] = []
            for item in try request.array("Tags") ?? [] {
                let tag = ActionRequest(json: item)
                tags.append((try tag.requiredString("Key"), try tag.string("Value") ?? ""))
            }
            try changeTags(arn, remove: [], add: tags, reply)
        }
    }

    func listTagsForResource(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let (arn, topic) = try topicResource(request)
        guard principal.permissions.allows(.publish, topic: topic) || principal.permissions.allows(.subscribe, topic: topic) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not read topic \(topic)")
        }
        let items = storedTags(arn).map { ActionResponse.object([("Key", .string($0.0)), ("Value", .string($0.1))]) }
        reply(.success(ActionResponse.object([("Tags", .array(items))])))
    }

    private func topicResource(_ request: ActionRequest) throws(HeraldError) -> (arn: String, topic: String) {
        let arn = try request.requiredString("ResourceArn")
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, arn.hasPrefix("arn:aws:sns:") else { throw HeraldError(.invalidParameter, "Invalid parameter: ResourceArn") }
        let topic = String(parts[5])
        guard broker.subscriptionCount(topic: topic) != nil else { throw HeraldError(.notFound, "Resource does not exist") }
        return (identity.topicARN(topic), topic)
    }

    private func strings(_ request: ActionRequest, _ key: String) throws(HeraldError) -> [String] {
        var keys: [String] = []
        for item in try request.array(key) ?? [] {
            guard case .string(let text) = item else { throw HeraldError(.invalidParameterValue, "Value for parameter \(key) is invalid.") }
            keys.append(text)
        }
        return keys
    }

    private func storedTags(_ arn: String) -> [(String, String)] {
        let key = Self.tagPrefix + arn
        guard let value = meta.snapshot(prefix: key).first(where: { $0.key == key })?.value,
              case .object(let members)? = try? JSONParser.parse(value, limits: .init(maxDepth: 4))
        else { return [] }
        return members.compactMap { member in
            if case .string(let text) = member.value { return (member.key, text) }
            return nil
        }
    }

    /// A resource's whole tag set within SQS's and SNS's bounds.
    static func checkTags(_ tags: [String: String]) throws(HeraldError) {
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
            guard !key.isEmpty, key.count <= 128, value.count <= 256 else {
                throw HeraldError(.invalidParameterValue, "Tag keys have 1 to 128 characters and values at most 256: '\(key)'")
            }
        }
        guard tags.count <= maxTags else { throw HeraldError(.invalidParameterValue, "Too many tags: a resource has at most \(maxTags).") }
    }

    func changeTags(_ arn: String, remove: [String], add: [(String, String)], _ reply: @escaping Reply) throws(HeraldError) {
        var tags = Dictionary(storedTags(arn), uniquingKeysWith: { _, last in last })
        for key in remove { tags.removeValue(forKey: key) }
        for (key, value) in add { tags[key] = value }
        try Self.checkTags(tags)
        var bytes: [UInt8] = []
        JSONValue.object(tags.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) }).write(to: &bytes)
        meta.put(Self.tagPrefix + arn, tags.isEmpty ? nil : bytes, ifRevision: nil, on: manager.replyQueue) { result in
            reply(result.map { _ in ActionResponse.object([]) }.mapError { HeraldError(.storageUnavailable, "The tags could not be stored (\($0)).") })
        }
    }
}
