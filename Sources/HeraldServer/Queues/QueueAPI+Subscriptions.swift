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
        let endpoint = try request.requiredString("Endpoint")
        var queue: String?
        switch proto {
        case "sqs":
            guard let name = Self.queueName(arnOrName: endpoint) else { throw HeraldError(.invalidParameter, "Invalid parameter: Endpoint") }
            guard principal.permissions.allows(.publish, topic: name) else {
                throw HeraldError(.notAuthorized, "\(principal.name) may not deliver to queue \(name)")
            }
            queue = name
        case "http", "https":
            guard endpoints != nil else { throw HeraldError(.invalidParameter, "Invalid parameter: Protocol: \(proto) is not served by this server") }
            if let problem = HeraldConfig.SubscriptionProtocol.endpointProblem(endpoint, protocol: proto) {
                throw HeraldError(.invalidParameter, problem.hasPrefix("Invalid parameter") ? problem : "Invalid parameter: Endpoint: \(problem)")
            }
            if TopicName.isFIFO(topic) {
                throw HeraldError(.invalidParameter, "Invalid parameter: Endpoint Reason: FIFO topics deliver to SQS queues only, not to \(proto) endpoints")
            }
        default:
            throw HeraldError(.invalidParameter, "Invalid parameter: Protocol: \(proto) is not supported (sqs, http, https)")
        }
        guard principal.permissions.allows(.subscribe, topic: topic) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not subscribe to \(topic)")
        }
        if broker.subscriptionCount(topic: topic) == nil {
            // As a stream SUB does: with auto-create on, subscribing makes the topic exist.
            guard broker.options.autoCreateTopics else { throw HeraldError(.notFound, "Topic does not exist") }
            do throws(BrokerError) { try broker.createTopic(topic) } catch { throw error.heraldError }
        }
        if let queue {
            guard let fifoQueue = manager.isFIFO(queue) else {
                throw HeraldError(.invalidParameter, "Invalid parameter: Endpoint Reason: queue \(queue) does not exist")
            }
            if fifoQueue && !TopicName.isFIFO(topic) {
                throw HeraldError(.invalidParameter, "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
            }
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
        let target = queue ?? endpoint
        // SNS Subscribe is idempotent: the same topic and endpoint answer the existing subscription.
        let existing = meta.snapshot(prefix: SubscriptionRecord.prefix).compactMap { SubscriptionRecord(decoding: $0.value) }
            .first { $0.topic == topic && $0.protocol == proto && $0.endpoint == target && $0.status != .unsubscribed }
        let name = existing?.name ?? Self.newSubscriptionName()
        var record = SubscriptionRecord(
            name: name, topic: topic, protocol: proto, endpoint: target, filterPolicy: policyText,
            filterPolicyScope: policyText == nil ? nil : scope.rawValue, raw: raw)
        let arn = identity.subscriptionARN(topic: topic, subscription: name)
        if let endpoints, queue == nil {
            record.deliveryPolicy = try Self.deliveryPolicyText(attributes["DeliveryPolicy"], raw: raw)
            record.redrivePolicy = try redrivePolicyText(attributes["RedrivePolicy"])
            let returnArn = try request.bool("ReturnSubscriptionArn") ?? false
            let confirmed = existing?.status == .confirmed
            endpoints.subscribe(record) { [record, policy] result in
                switch result {
                case .failure(let error): reply(.failure(error))
                case .success:
                    if confirmed {
                        // A changed filter policy applies to the next message.
                        do throws(BrokerError) { try endpoints.restore(record, policy: policy) } catch { return reply(.failure(error.heraldError)) }
                    }
                    reply(.success(ActionResponse.object([("SubscriptionArn", .string(confirmed || returnArn ? arn : "pending confirmation"))])))
                }
            }
            return
        }
        meta.put(SubscriptionRecord.key(name), record.encoded(), ifRevision: nil, on: manager.replyQueue) { [self, policy, record] result in
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

    /// SNS `DeliveryPolicy` of an HTTP/S subscription: validated (SNS's texts), kept as given.
    static func deliveryPolicyText(_ text: String?, raw: Bool) throws(HeraldError) -> String? {
        guard let text, !text.isEmpty else { return nil }
        _ = try HTTPDeliveryPolicy.parse(Array(text.utf8), rawMessageDelivery: raw)
        return text
    }

    /// SNS `RedrivePolicy`: validated, and its dead-letter queue must exist.
    func redrivePolicyText(_ text: String?) throws(HeraldError) -> String? {
        guard let text, !text.isEmpty else { return nil }
        let policy = try SubscriptionRedrivePolicy.parse(Array(text.utf8))
        guard manager.summary(policy.deadLetterQueue) != nil else {
            throw HeraldError(.invalidParameter, "Invalid parameter: RedrivePolicy: the dead-letter queue \(policy.deadLetterQueue) does not exist")
        }
        return text
    }

    /// ConfirmSubscription: TopicArn and Token, as the SubscribeURL carries them.
    func confirmSubscription(_ request: ActionRequest, _ settings: SessionSettings, _ reply: @escaping Reply) throws(HeraldError) {
        let topicArn = try request.requiredString("TopicArn")
        let token = try request.requiredString("Token")
        guard let endpoints else { throw HeraldError(.invalidParameter, "Invalid parameter: Token") }
        endpoints.confirm(topicArn: topicArn, token: token, filterLimits: settings.filterLimits) { result in
            reply(result.map { ActionResponse.object([("SubscriptionArn", .string($0))]) })
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
        if record.protocol != "sqs" { endpoints?.remove(name) }
        meta.put(SubscriptionRecord.key(name), nil, ifRevision: nil, on: manager.replyQueue) { result in
            reply(result.map { _ in ActionResponse.object([]) }.mapError { HeraldError(.storageUnavailable, "The unsubscribe could not be stored (\($0)).") })
        }
    }

    func listSubscriptions(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        var topic = try request.string("TopicName")
        if topic == nil, let arn = try request.string("TopicArn") { topic = arn.split(separator: ":").last.map(String.init) }
        let records = meta.snapshot(prefix: SubscriptionRecord.prefix).compactMap { SubscriptionRecord(decoding: $0.value) }
            .filter { (topic == nil || $0.topic == topic) && $0.status != .unsubscribed }
            .filter { principal.permissions.allows(.subscribe, topic: $0.topic) || principal.permissions.allows(.publish, topic: $0.topic) }
        var items = records.map { record in
            ActionResponse.object([
                // SNS lists a subscription waiting for its endpoint as "PendingConfirmation".
                ("SubscriptionArn", .string(record.status == .pending ? "PendingConfirmation" : identity.subscriptionARN(topic: record.topic, subscription: record.name))),
                ("TopicArn", .string(identity.topicARN(record.topic))), ("Protocol", .string(record.protocol)),
                ("Endpoint", .string(record.protocol == "sqs" ? identity.queueARN(record.endpoint) : EndpointURL.withoutCredentials(record.endpoint))),
                ("Owner", .string(identity.account)),
            ])
        }
        // The config file's subscriptions too, read-only (changed in the file); stream ones under
        // Herald's own protocol name, with the name clients attach by as the endpoint.
        for subscription in declaredSubscriptions() where topic == nil || subscription.topic == topic {
            guard principal.permissions.allows(.subscribe, topic: subscription.topic) || principal.permissions.allows(.publish, topic: subscription.topic) else { continue }
            let pending = (subscription.protocol == .http || subscription.protocol == .https) && !(endpoints?.isRouted(subscription) ?? true)
            let endpoint: String
            switch subscription.protocol {
            case .sqs: endpoint = identity.queueARN(subscription.queue ?? "")
            case .http, .https: endpoint = EndpointURL.withoutCredentials(subscription.endpoint ?? "")
            case .stream: endpoint = subscription.name
            }
            items.append(ActionResponse.object([
                ("SubscriptionArn", .string(pending ? "PendingConfirmation" : identity.subscriptionARN(topic: subscription.topic, subscription: subscription.name))),
                ("TopicArn", .string(identity.topicARN(subscription.topic))), ("Protocol", .string(subscription.protocol.rawValue)),
                ("Endpoint", .string(endpoint)), ("Owner", .string(identity.account)),
            ]))
        }
        reply(.success(ActionResponse.object([("Subscriptions", .array(items))])))
    }

    /// Re-installs the topics (`restoreTopics`) and then the subscriptions made at run time
    /// (start-up, after the queues were opened and the configuration applied). Returns the
    /// problems met (a subscription whose policy no longer parses is skipped, named).
    public func restoreSubscriptions(filterLimits: FilterPolicyLimits) -> [String] {
        var problems = restoreTopics()
        for (key, value, _) in meta.snapshot(prefix: SubscriptionRecord.prefix) {
            guard let record = SubscriptionRecord(decoding: value) else {
                problems.append("unreadable subscription record \(key)")
                continue
            }
            do {
                let policy = try record.compiledFilterPolicy(limits: filterLimits)
                if record.protocol != "sqs" {
                    guard record.status == .confirmed else { continue }
                    if broker.subscriptionCount(topic: record.topic) == nil { try broker.createTopic(record.topic) }
                    try endpoints?.restore(record, policy: policy)
                    continue
                }
                if broker.subscriptionCount(topic: record.topic) == nil { try broker.createTopic(record.topic) }
                try install(record, policy: policy)
            } catch {
                problems.append("subscription \(record.name) on \(record.topic): \(error)")
            }
        }
        return problems
    }

    func install(_ record: SubscriptionRecord, policy: FilterPolicy?) throws(BrokerError) {
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

extension QueueAPI {
    /// SNS GetSubscriptionAttributes for run-time subscriptions, plus Herald's counters since the
    /// subscription was installed: `Matched` and `FilteredOut` (messages of its topic its filter
    /// let through / kept out) for every named subscription, and `Delivered`, `Retried`, `Failed`,
    /// `DeadLettered` for HTTP/S ones — config-declared ones too, by `TOPIC-ARN:NAME`.
    func getSubscriptionAttributes(_ request: ActionRequest, _ principal: Principal, _ reply: @escaping Reply) throws(HeraldError) {
        let arn = try request.requiredString("SubscriptionArn")
        let name = arn.split(separator: ":").last.map(String.init) ?? ""
        let key = SubscriptionRecord.key(name)
        var attributes: [String: String] = [:]
        if let value = meta.snapshot(prefix: key).first(where: { $0.key == key })?.value, let record = SubscriptionRecord(decoding: value),
           record.status != .unsubscribed {
            guard principal.permissions.allows(.subscribe, topic: record.topic) || principal.permissions.allows(.publish, topic: record.topic) else {
                throw HeraldError(.notAuthorized, "\(principal.name) may not read subscriptions of \(record.topic)")
            }
            attributes["SubscriptionArn"] = identity.subscriptionARN(topic: record.topic, subscription: name)
            attributes["TopicArn"] = identity.topicARN(record.topic)
            attributes["Protocol"] = record.protocol
            attributes["Endpoint"] = record.protocol == "sqs" ? identity.queueARN(record.endpoint) : record.endpoint
            attributes["Owner"] = identity.account
            attributes["PendingConfirmation"] = record.status == .pending ? "true" : "false"
            attributes["ConfirmationWasAuthenticated"] = record.protocol == "sqs" ? "true" : "false"
            attributes["RawMessageDelivery"] = record.raw ? "true" : "false"
            if let text = record.filterPolicy {
                attributes["FilterPolicy"] = text
                attributes["FilterPolicyScope"] = record.filterPolicyScope ?? "MessageAttributes"
            }
            if let text = record.deliveryPolicy { attributes["DeliveryPolicy"] = text }
            if let text = record.redrivePolicy { attributes["RedrivePolicy"] = text }
            if record.protocol != "sqs", let endpoints {
                let policy = record.deliveryPolicy.flatMap { try? HTTPDeliveryPolicy.parse(Array($0.utf8), rawMessageDelivery: record.raw) }
                attributes["EffectiveDeliveryPolicy"] = endpoints.effectivePolicy(topic: record.topic, subscription: policy).jsonText
            }
        }
        var topic = attributes["TopicArn"].flatMap { $0.split(separator: ":").last.map(String.init) }
        if topic == nil, case let parts = arn.split(separator: ":"), parts.count == 7 { topic = String(parts[5]) }
        if let topic, let counts = broker.matchCounts(topic: topic, subscription: name) {
            attributes["SubscriptionArn"] = attributes["SubscriptionArn"] ?? arn
            attributes["Matched"] = String(counts.matched)
            attributes["FilteredOut"] = String(counts.filteredOut)
        }
        if let counters = endpoints?.counters(name) {
            attributes["SubscriptionArn"] = attributes["SubscriptionArn"] ?? arn
            attributes["Delivered"] = String(counters.delivered)
            attributes["Retried"] = String(counters.retried)
            attributes["Failed"] = String(counters.failed)
            attributes["DeadLettered"] = String(counters.deadLettered)
        }
        guard !attributes.isEmpty else { throw HeraldError(.notFound, "Subscription does not exist") }
        reply(.success(ActionResponse.object([("Attributes", ActionResponse.strings(attributes))])))
    }
}

extension QueueAPI {
    /// SNS SetSubscriptionAttributes on a run-time subscription: FilterPolicy, FilterPolicyScope,
    /// RawMessageDelivery, and for HTTP/S DeliveryPolicy and RedrivePolicy (for sqs: RedrivePolicy
    /// is refused, as the queue's own redrive policy applies). Stored, then re-installed: a changed
    /// filter policy applies to the next message.
    func setSubscriptionAttributes(_ request: ActionRequest, _ principal: Principal, _ settings: SessionSettings, _ reply: @escaping Reply) throws(HeraldError) {
        let arn = try request.requiredString("SubscriptionArn")
        let attribute = try request.requiredString("AttributeName")
        let value = try request.string("AttributeValue") ?? ""
        let name = arn.split(separator: ":").last.map(String.init) ?? ""
        let key = SubscriptionRecord.key(name)
        guard let stored = meta.snapshot(prefix: key).first(where: { $0.key == key })?.value, var record = SubscriptionRecord(decoding: stored),
              record.status != .unsubscribed
        else { throw HeraldError(.notFound, "Subscription does not exist") }
        guard principal.permissions.allows(.subscribe, topic: record.topic) else {
            throw HeraldError(.notAuthorized, "\(principal.name) may not change subscriptions of \(record.topic)")
        }
        let http = record.protocol != "sqs"
        switch attribute {
        case "FilterPolicy": record.filterPolicy = value.isEmpty ? nil : value
        case "FilterPolicyScope":
            guard FilterPolicyScope(rawValue: value) != nil else {
                throw HeraldError(.invalidParameter, "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [\(value)]. Please use either MessageBody or MessageAttributes")
            }
            record.filterPolicyScope = value
        case "RawMessageDelivery":
            guard ["true", "false"].contains(value.lowercased()) else { throw HeraldError(.invalidParameter, "Invalid parameter: RawMessageDelivery") }
            record.raw = value.lowercased() == "true"
        case "DeliveryPolicy" where http: record.deliveryPolicy = try Self.deliveryPolicyText(value, raw: record.raw)
        case "RedrivePolicy" where http: record.redrivePolicy = try redrivePolicyText(value)
        default: throw HeraldError(.invalidParameter, "Invalid parameter: AttributeName")
        }
        let policy = try record.compiledFilterPolicy(limits: settings.filterLimits)
        if record.filterPolicy != nil, record.filterPolicyScope == nil { record.filterPolicyScope = FilterPolicyScope.messageAttributes.rawValue }
        meta.put(key, record.encoded(), ifRevision: nil, on: manager.replyQueue) { [self, record, policy] result in
            guard case .success = result else {
                return reply(.failure(HeraldError(.storageUnavailable, "The subscription could not be stored; it is unchanged.")))
            }
            do throws(BrokerError) {
                if http {
                    if record.status == .confirmed {
                        try endpoints?.restore(record, policy: policy)
                    }
                } else {
                    try install(record, policy: policy)
                }
                reply(.success(ActionResponse.object([])))
            } catch {
                reply(.failure(error.heraldError))
            }
        }
    }
}

extension SubscriptionRecord {
    /// The stored filter policy, compiled (nil: none); SNS's text when it does not parse.
    func compiledFilterPolicy(limits: FilterPolicyLimits) throws(HeraldError) -> FilterPolicy? {
        guard let text = filterPolicy else { return nil }
        let scope = filterPolicyScope.flatMap(FilterPolicyScope.init(rawValue:)) ?? .messageAttributes
        do {
            return try FilterPolicy.parse(utf8: Array(text.utf8), scope: scope, limits: limits)
        } catch {
            throw HeraldError(.invalidParameter, error.message(api: .subscribe))
        }
    }
}
