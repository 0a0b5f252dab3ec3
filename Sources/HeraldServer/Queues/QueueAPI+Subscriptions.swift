import FilterPolicy
import HeraldBroker
import HeraldConfig
import HeraldCore
import HeraldStore

/// SNS Subscribe / Unsubscribe / ListSubscriptions for queue endpoints. Subscriptions made here
/// are persisted as `subscription/<name>` metadata and re-installed on start (`restoreSubscriptions`).
extension QueueAPI {
    func subscribe(_ request: ActionRequest, _ principal: Principal, _ settings: SessionSettings, _ reply: @escaping Reply) throws(HeraldError) {
        let topic = try Self.topicName(request)
        let proto = try request.requiredString("Protocol")
        guard proto == "sqs" else {
            throw HeraldError(.invalidParameter, "Invalid parameter: Protocol: \(proto) is not supported here yet (only sqs)")
        }
        guard let queue = Self.queueName(arnOrName: try request.requiredString("Endpoint")) else {
            throw HeraldError(.invalidParameter, "Invalid parameter: Endpoint")
        }
        guard principal.permissions.allows(.subscribe, topic: topic) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not subscribe to \(topic)")
        }
        guard principal.permissions.allows(.publish, topic: queue) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not deliver to queue \(queue)")
        }
        if broker.subscriptionCount(topic: topic) == nil {
            // As a stream SUB does: with auto-create on, subscribing makes the topic exist.
            guard broker.options.autoCreateTopics else { throw HeraldError(.notFound, "Topic does not exist") }
            do throws(BrokerError) { try broker.createTopic(topic) } catch { throw error.heraldError }
        }
        guard let fifoQueue = manager.isFIFO(queue) else {
            throw HeraldError(.invalidParameter, "Invalid parameter: Endpoint Reason: queue \(queue) does not exist")
        }
        if fifoQueue && !TopicName.isFIFO(topic) {
            throw HeraldError(.invalidParameter, "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
        }
        let attributes = try request.stringMap("Attributes")
        let scopeText = attributes["FilterPolicyScope"] ?? "MessageAttributes"
        guard let scope = FilterPolicyScope(rawValue: scopeText) else {
            throw HeraldError(.invalidParameter, "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [\(scopeText)]. Please use either MessageBody or MessageAttributes")
        }
        let policyText = attributes["FilterPolicy"].flatMap { $0.isEmpty ? nil : $0 }
        let raw = attributes["RawMessageDelivery"]?.lowercased() == "true"
        var policy: FilterPolicy?
        if let policyText {
            do {
                policy = try FilterPolicy.parse(utf8: Array(policyText.utf8), scope: scope, limits: settings.filterLimits)
            } catch {
                throw HeraldError(.invalidParameter, error.message(api: .subscribe))
            }
        }
        // SNS Subscribe is idempotent: the same topic and endpoint answer the existing subscription.
        let existing = meta.snapshot(prefix: SubscriptionRecord.prefix).compactMap { SubscriptionRecord(decoding: $0.value) }
            .first { $0.topic == topic && $0.protocol == proto && $0.endpoint == queue }
        let name = existing?.name ?? Self.newSubscriptionName()
        let record = SubscriptionRecord(
            name: name, topic: topic, protocol: proto, endpoint: queue, filterPolicy: policyText,
            filterPolicyScope: policyText == nil ? nil : scope.rawValue, raw: raw)
        let arn = identity.subscriptionARN(topic: topic, subscription: name)
        meta.put(SubscriptionRecord.key(name), record.encoded(), ifRevision: nil, on: manager.replyQueue) { [self, policy] result in
            switch result {
            case .failure(let error):
                reply(.failure(HeraldError(.storageUnavailable, "The subscription could not be stored (\(error)); it was not created.")))
            case .success:
                do throws(BrokerError) {
                    try install(record, policy: policy)
                    reply(.success(ActionResponse.object([("SubscriptionArn", .string(arn))])))
                } catch {
                    reply(.failure(error.heraldError))
                }
            }
        }
    }

    func unsubscribe(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let arn = try request.requiredString("SubscriptionArn")
        guard let name = arn.split(separator: ":").last.map(String.init),
              let value = meta.snapshot(prefix: SubscriptionRecord.key(name)).first(where: { $0.key == SubscriptionRecord.key(name) })?.value,
              let record = SubscriptionRecord(decoding: value)
        else { throw HeraldError(.notFound, "Subscription does not exist") }
        guard principal.permissions.allows(.subscribe, topic: record.topic) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not unsubscribe from \(record.topic)")
        }
        broker.removeSubscription(topic: record.topic, name: name)
        meta.put(SubscriptionRecord.key(name), nil, ifRevision: nil, on: manager.replyQueue) { result in
            reply(result.map { _ in ActionResponse.object([]) }.mapError { HeraldError(.storageUnavailable, "The unsubscribe could not be stored (\($0)).") })
        }
    }

    func listSubscriptions(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        var topic = try request.string("TopicName")
        if topic == nil, let arn = try request.string("TopicArn") { topic = arn.split(separator: ":").last.map(String.init) }
        let records = meta.snapshot(prefix: SubscriptionRecord.prefix).compactMap { SubscriptionRecord(decoding: $0.value) }
            .filter { topic == nil || $0.topic == topic }
            .filter { principal.permissions.allows(.subscribe, topic: $0.topic) || principal.permissions.allows(.publish, topic: $0.topic) }
        let items = records.map { record in
            ActionResponse.object([
                ("SubscriptionArn", .string(identity.subscriptionARN(topic: record.topic, subscription: record.name))),
                ("TopicArn", .string(identity.topicARN(record.topic))), ("Protocol", .string(record.protocol)),
                ("Endpoint", .string(identity.queueARN(record.endpoint))), ("Owner", .string(identity.account)),
            ])
        }
        reply(.success(ActionResponse.object([("Subscriptions", .array(items))])))
    }

    /// Re-installs the subscriptions made at run time (start-up, after the queues were opened).
    /// Returns the problems met (a subscription whose policy no longer parses is skipped, named).
    public func restoreSubscriptions(filterLimits: FilterPolicyLimits) -> [String] {
        var problems: [String] = []
        for (key, value, _) in meta.snapshot(prefix: SubscriptionRecord.prefix) {
            guard let record = SubscriptionRecord(decoding: value) else {
                problems.append("unreadable subscription record \(key)")
                continue
            }
            do {
                var policy: FilterPolicy?
                if let text = record.filterPolicy {
                    let scope = record.filterPolicyScope.flatMap(FilterPolicyScope.init(rawValue:)) ?? .messageAttributes
                    policy = try FilterPolicy.parse(utf8: Array(text.utf8), scope: scope, limits: filterLimits)
                }
                if broker.subscriptionCount(topic: record.topic) == nil { try broker.createTopic(record.topic) }
                try install(record, policy: policy)
            } catch {
                problems.append("subscription \(record.name) on \(record.topic): \(error)")
            }
        }
        return problems
    }

    private func install(_ record: SubscriptionRecord, policy: FilterPolicy?) throws(BrokerError) {
        let route = QueueSubscriptionRoute(queue: record.endpoint, subscription: record.name, raw: record.raw)
        try broker.putSubscription(topic: record.topic, ConfiguredSubscription(name: record.name, policy: policy, target: .queue(route, manager)))
    }

    static func topicName(_ request: ActionRequest) throws(HeraldError) -> String {
        if let name = try request.string("TopicName"), !name.isEmpty { return name }
        if let arn = try request.string("TopicArn"), let last = arn.split(separator: ":").last { return String(last) }
        throw HeraldError(.missingParameter, "The request must contain the parameter TopicArn.")
    }

    static func newSubscriptionName() -> String {
        var generator = SystemRandomNumberGenerator()
        return MessageID.version4(high: generator.next(), low: generator.next()).text
    }
}
