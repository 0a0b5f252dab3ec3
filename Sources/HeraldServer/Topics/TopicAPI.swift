import Foundation
import HeraldBroker
import HeraldCore
import HeraldStore

/// The SNS topic actions in SNS's JSON shapes, for every front end: the SNS query API renders
/// the answers as XML (SNSAPI), the stream protocol's QREQ frames can send them as they are.
///
/// - CreateTopic `{"Name","Attributes"?,"Tags"?}` → `{"TopicArn"}`
/// - DeleteTopic `{"TopicArn"}` → `{}`
/// - ListTopics `{"NextToken"?}` → `{"Topics":[{"TopicArn"}],"NextToken"?}` (100 a page)
/// - GetTopicAttributes `{"TopicArn"}` → `{"Attributes":{…}}`
/// - SetTopicAttributes `{"TopicArn","AttributeName","AttributeValue"}` → `{}`
///
/// Topics made here are durable: a `topic/<name>` record (`TopicRecord`) in the queues' MetaStore
/// holds their attributes, and `QueueAPI.restoreTopics` re-creates them at start, before the
/// subscriptions. Topics the configuration declares keep the configuration's settings: CreateTopic
/// answers for them when its attributes agree, SetTopicAttributes is refused. Auto-created topics
/// (publish or subscribe with `autoCreateTopics`) are not recorded; CreateTopic on one records it.
///
/// Authorization as HeraldService's topic calls: creating and reading need publish or subscribe
/// on the name, deleting and changing need publish.
///
/// Contract: `handle` may be called from any thread and never blocks; `reply` runs once, on the
/// queue manager's callback queue or the caller's thread.
public struct TopicAPI: Sendable {
    public typealias Reply = @Sendable (Result<JSONValue, HeraldError>) -> Void

    let service: HeraldService
    let queues: QueueAPI

    public init(service: HeraldService, queues: QueueAPI) {
        self.service = service
        self.queues = queues
    }

    public static let actions: Set<String> = ["CreateTopic", "DeleteTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes"]
    public static let pageSize = 100

    var broker: Broker { service.broker }
    var identity: QueueIdentity { queues.identity }

    /// `body`: the action's JSON object (empty: `{}`); `settings`: the caller's snapshot (as QueueAPI's).
    public func handle(action: String, body: [UInt8], principal: Principal, settings: SessionSettings, reply: @escaping Reply) {
        do throws(HeraldError) {
            try handle(action: action, request: try ActionRequest(body), principal: principal, settings: settings, reply: reply)
        } catch {
            reply(.failure(error))
        }
    }

    func handle(action: String, request: ActionRequest, principal: Principal, settings: SessionSettings, reply: @escaping Reply) throws(HeraldError) {
        switch action {
        case "CreateTopic": try createTopic(request, principal, settings, reply)
        case "DeleteTopic": try deleteTopic(request, principal, reply)
        case "ListTopics": try listTopics(request, principal, reply)
        case "GetTopicAttributes": try getTopicAttributes(request, principal, reply)
        case "SetTopicAttributes": try setTopicAttributes(request, principal, reply)
        default: throw HeraldError(.invalidAction, "The action \(action) is not valid for this endpoint.")
        }
    }

    // MARK: - Actions

    private func createTopic(_ request: ActionRequest, _ principal: Principal, _ settings: SessionSettings, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try request.requiredString("Name")
        guard principal.permissions.allows(.publish, topic: name) || principal.permissions.allows(.subscribe, topic: name) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not create topic \(name)")
        }
        let attributes = try TopicAttributes.forCreate(name: name, try request.stringMap("Attributes"))
        let tags = try request.array("Tags")
        let arn = identity.topicARN(name)
        let answer: Reply = { [queues] result in
            guard case .success = result, let tags, !tags.isEmpty else { return reply(result) }
            // Tags go where TagResource keeps them.
            var body: [UInt8] = []
            JSONValue.object([.init(key: "ResourceArn", value: .string(arn)), .init(key: "Tags", value: .array(tags))]).write(to: &body)
            queues.handle(action: "TagResource", body: body, principal: principal, settings: settings) { tagged in
                reply(tagged.map { _ in ActionResponse.object([("TopicArn", .string(arn))]) })
            }
        }
        let created: Result<JSONValue, HeraldError> = .success(ActionResponse.object([("TopicArn", .string(arn))]))
        if let declared = broker.isDeclaredTopic(name) {
            if declared {
                // Config wins: answer only when the request asks for nothing the config does not say.
                if TopicAttributes.differ(requested: attributes, existing: configuredAttributes(name)) {
                    throw HeraldError(.invalidParameter, TopicAttributes.differentAttributesText)
                }
                return answer(created)
            }
            if let record = storedRecord(name) {
                if TopicAttributes.differ(requested: attributes, existing: record.attributes) {
                    throw HeraldError(.invalidParameter, TopicAttributes.differentAttributesText)
                }
                return answer(created)
            }
            // Auto-created: recorded from now on, with these attributes.
        } else {
            try service.createTopic(name, principal: principal)
        }
        let record = TopicRecord(name: name, attributes: attributes, createdAtMillis: Self.nowMillis())
        store(record, reply: answer, answer: created)
    }

    private func deleteTopic(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try Self.topicName(request)
        try service.deleteTopic(name, principal: principal)
        queues.endpoints?.setRuntimeTopicPolicy(name, nil)
        // SNS deletes the topic's subscriptions with it: their records go too, so a restart
        // does not bring the topic back through them.
        var keys: [String] = []
        for (key, value, _) in queues.meta.snapshot(prefix: SubscriptionRecord.prefix) {
            guard let record = SubscriptionRecord(decoding: value), record.topic == name else { continue }
            if record.protocol != "sqs" { queues.endpoints?.remove(record.name) }
            keys.append(key)
        }
        if storedRecord(name) != nil { keys.append(TopicRecord.key(name)) }
        let tagsKey = QueueAPI.tagPrefix + identity.topicARN(name)
        if queues.meta.snapshot(prefix: tagsKey).contains(where: { $0.key == tagsKey }) { keys.append(tagsKey) }
        removeKeys(keys[...]) { reply($0.map { ActionResponse.object([]) }) }
    }

    private func listTopics(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        var after: String?
        if let token = try request.string("NextToken"), !token.isEmpty {
            guard let bytes = Base64.decode(token), case let name = String(decoding: bytes, as: UTF8.self), TopicName.isValid(name) else {
                throw HeraldError(.invalidParameter, "Invalid parameter: NextToken")
            }
            after = name
        }
        let names = service.listTopics(principal: principal).filter { after == nil || $0 > after ?? "" }
        let page = names.prefix(Self.pageSize)
        var members: [(String, JSONValue)] = [("Topics", .array(page.map { ActionResponse.object([("TopicArn", .string(identity.topicARN($0)))]) }))]
        if names.count > page.count, let last = page.last { members.append(("NextToken", .string(Base64.encode(Array(last.utf8))))) }
        reply(.success(ActionResponse.object(members)))
    }

    private func getTopicAttributes(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try Self.topicName(request)
        guard principal.permissions.allows(.publish, topic: name) || principal.permissions.allows(.subscribe, topic: name) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not read topic \(name)")
        }
        guard let declared = broker.isDeclaredTopic(name), let routed = broker.subscriptionCount(topic: name) else { throw Self.notFound }
        let stored = declared ? configuredAttributes(name) : (storedRecord(name)?.attributes ?? Self.defaults(name))
        let arn = identity.topicARN(name)
        var attributes: [String: String] = [
            "TopicArn": arn, "Owner": identity.account, "Policy": stored["Policy"] ?? TopicAttributes.defaultPolicy(topicArn: arn, account: identity.account),
            "DisplayName": stored["DisplayName"] ?? "", "SubscriptionsDeleted": "0",
            "EffectiveDeliveryPolicy": HTTPTopicDeliveryPolicy.effectiveJSONText(queues.endpoints?.topicPolicy(name)),
        ]
        let pending = queues.meta.snapshot(prefix: SubscriptionRecord.prefix).compactMap { SubscriptionRecord(decoding: $0.value) }
            .filter { $0.topic == name && $0.status == .pending }.count
        attributes["SubscriptionsConfirmed"] = String(routed)
        attributes["SubscriptionsPending"] = String(pending)
        for key in ["DeliveryPolicy", "SignatureVersion", "KmsMasterKeyId", "TracingConfig"] { if let value = stored[key] { attributes[key] = value } }
        if TopicName.isFIFO(name) {
            attributes["FifoTopic"] = "true"
            // The broker's policy is what deduplicates: report it.
            attributes["ContentBasedDeduplication"] = broker.deduplicationPolicy(topic: name)?.contentBasedDeduplication == true ? "true" : "false"
            attributes["FifoThroughputScope"] = stored["FifoThroughputScope"] ?? "Topic"
        }
        reply(.success(ActionResponse.object([("Attributes", ActionResponse.strings(attributes))])))
    }

    private func setTopicAttributes(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let name = try Self.topicName(request)
        let attribute = try request.requiredString("AttributeName")
        let value = try request.string("AttributeValue") ?? ""
        guard principal.permissions.allows(.publish, topic: name) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not change topic \(name)")
        }
        guard let declared = broker.isDeclaredTopic(name) else { throw Self.notFound }
        guard !declared else {
            throw HeraldError(.invalidParameter, "Invalid parameter: Topic \(name) is declared in the configuration; change it there")
        }
        let current = storedRecord(name)
        let attributes = try TopicAttributes.setting(attribute, to: value, in: current?.attributes ?? Self.defaults(name), topic: name)
        let record = TopicRecord(name: name, attributes: attributes, createdAtMillis: current?.createdAtMillis ?? Self.nowMillis())
        store(record, reply: reply, answer: .success(ActionResponse.object([])))
    }

    // MARK: - Pieces

    static let notFound = HeraldError(.notFound, "Topic does not exist")

    /// Wall-clock milliseconds since 1970 (a record's creation time).
    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// `TopicArn` (or `TargetArn`) → the topic's name, with SNS's texts.
    static func topicName(_ request: ActionRequest) throws(HeraldError) -> String {
        var arn = try request.string("TopicArn")
        if arn == nil { arn = try request.string("TargetArn") }
        guard let arn, !arn.isEmpty else { throw HeraldError(.invalidParameter, "Invalid parameter: TopicArn") }
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 6 else {
            throw HeraldError(.invalidParameter, "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not \(parts.count)")
        }
        guard arn.hasPrefix("arn:aws:sns:"), parts.count == 6, !parts[5].isEmpty else { throw HeraldError(.invalidParameter, "Invalid parameter: TopicArn") }
        return String(parts[5])
    }

    /// What a topic without a record has: a FIFO topic's SNS defaults, nothing on a standard one.
    static func defaults(_ name: String) -> [String: String] {
        TopicName.isFIFO(name) ? ["FifoTopic": "true", "ContentBasedDeduplication": "false"] : [:]
    }

    /// A config-declared topic's attributes, as the broker applies them.
    func configuredAttributes(_ name: String) -> [String: String] {
        guard TopicName.isFIFO(name) else { return [:] }
        let contentBased = broker.deduplicationPolicy(topic: name)?.contentBasedDeduplication == true
        return ["FifoTopic": "true", "ContentBasedDeduplication": contentBased ? "true" : "false"]
    }

    func storedRecord(_ name: String) -> TopicRecord? {
        let key = TopicRecord.key(name)
        return queues.meta.snapshot(prefix: key).first { $0.key == key }.flatMap { TopicRecord(decoding: $0.value) }
    }

    /// Writes the record, then applies it (deduplication, delivery policy) and answers.
    private func store(_ record: TopicRecord, reply: @escaping Reply, answer: Result<JSONValue, HeraldError>) {
        queues.meta.put(TopicRecord.key(record.name), record.encoded(), ifRevision: nil, on: queues.manager.replyQueue) { [queues] result in
            guard case .success = result else {
                return reply(.failure(HeraldError(.storageUnavailable, "The topic \(record.name) could not be stored; its attributes are unchanged.")))
            }
            if let problem = queues.apply(record) { return reply(.failure(problem)) }
            reply(answer)
        }
    }

    /// Deletes metadata keys one after the other; replies after the last.
    private func removeKeys(_ keys: ArraySlice<String>, reply: @escaping @Sendable (Result<Void, HeraldError>) -> Void) {
        guard let key = keys.first else { return reply(.success(())) }
        queues.meta.put(key, nil, ifRevision: nil, on: queues.manager.replyQueue) { [self] result in
            guard case .success = result else {
                return reply(.failure(HeraldError(.storageUnavailable, "The topic was deleted, but \(key) could not be removed from the store.")))
            }
            removeKeys(keys.dropFirst(), reply: reply)
        }
    }
}

extension QueueAPI {
    /// Applies a run-time topic's record to a topic the broker has: its deduplication policy and
    /// the topic `DeliveryPolicy` its HTTP/S subscriptions use. nil, or why it could not.
    func apply(_ record: TopicRecord, restartPumps: Bool = true) -> HeraldError? {
        if TopicName.isFIFO(record.name) {
            do throws(BrokerError) {
                try broker.setDeduplication(topic: record.name, TopicAttributes.deduplication(record.attributes, topic: record.name))
            } catch {
                return error.heraldError
            }
        }
        endpoints?.setRuntimeTopicPolicy(record.name, TopicAttributes.deliveryPolicy(record.attributes), restartPumps: restartPumps)
        return nil
    }

    /// Re-creates the topics made at run time (start-up, after the configuration was applied and
    /// before the subscriptions are restored). A topic the configuration now declares keeps the
    /// configuration's settings; its record is left for when the configuration drops it.
    /// Returns the problems met.
    public func restoreTopics() -> [String] {
        var problems: [String] = []
        for (key, value, _) in meta.snapshot(prefix: TopicRecord.prefix) {
            guard let record = TopicRecord(decoding: value) else {
                problems.append("unreadable topic record \(key)")
                continue
            }
            if broker.isDeclaredTopic(record.name) == true { continue }
            do throws(BrokerError) {
                try broker.createTopic(record.name)
            } catch {
                problems.append("topic \(record.name): \(error)")
                continue
            }
            if let problem = apply(record, restartPumps: false) { problems.append("topic \(record.name): \(problem.message)") }
        }
        return problems
    }
}
