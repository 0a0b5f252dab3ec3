import FilterPolicy
import HeraldCore
import Yams

/// `topics:` and `subscriptions:`, including each subscription's filter policy.
extension ConfigParse {
    /// Names that later issues will implement; today they get "not supported yet".
    static let plannedProtocols = ["lambda", "email", "email-json", "sms", "application", "firehose"]

    func topics(_ node: Node) -> [HeraldConfig.Topic] {
        guard let items = reader.sequence(node, path: "topics") else { return [] }
        var result: [HeraldConfig.Topic] = []
        var names: [(name: String, node: Node)] = []
        for (index, item) in items.enumerated() {
            let path = "topics[\(index)]"
            var nameNode: Node?
            var map: ConfigMapping?
            // A topic is a bare name or a mapping with `name:` and per-topic settings.
            if case .mapping = item {
                map = reader.mapping(item, path: path, keys: ["name", "deduplication", "contentBasedDeduplication", "deliveryPolicy"])
                nameNode = map?.required("name", reader)
            } else {
                nameNode = item
            }
            guard let nameNode, let name = reader.string(nameNode, path: path) else { continue }
            if let problem = TopicName.problem(in: name) {
                reader.report("\(path): \(problem)", at: nameNode)
                continue
            }
            names.append((name, nameNode))
            var deduplication: HeraldConfig.TopicDeduplication?
            if let map, let node = map["deduplication"] {
                guard let value = topicDeduplication(node, path: map.child("deduplication"), topic: name) else { continue }
                deduplication = value
            }
            var contentBased = false
            if let map, let node = map["contentBasedDeduplication"] {
                guard TopicName.isFIFO(name) else {
                    reader.report("\(map.child("contentBasedDeduplication")): only for FIFO topics (a name ending in .fifo); a standard topic uses deduplication: {key: body}", at: node)
                    continue
                }
                guard let value = reader.bool(node, path: map.child("contentBasedDeduplication")) else { continue }
                contentBased = value
            }
            var deliveryPolicy: HTTPTopicDeliveryPolicy?
            if let map, let node = map["deliveryPolicy"] {
                guard let value = topicDeliveryPolicy(node, path: map.child("deliveryPolicy")) else { continue }
                deliveryPolicy = value
            }
            result.append(HeraldConfig.Topic(
                name: name, deduplication: deduplication, contentBasedDeduplication: contentBased, deliveryPolicy: deliveryPolicy))
        }
        reportDuplicates(names, what: "topic")
        return result
    }

    /// `queues`: every queue name declared (a `.fifo` name is a FIFO queue).
    func subscriptions(
        _ node: Node, topics: Set<String>, queues: Set<String>, autoCreateTopics: Bool, limits: FilterPolicyLimits
    ) -> [HeraldConfig.Subscription] {
        guard let items = reader.sequence(node, path: "subscriptions") else { return [] }
        let keys = [
            "name", "topic", "protocol", "filterPolicy", "filterPolicyFile", "filterPolicyScope", "rawMessageDelivery", "queue", "retention",
            "endpoint", "deliveryPolicy", "redrivePolicy", "confirm",
        ]
        var result: [HeraldConfig.Subscription] = []
        var names: [(name: String, node: Node)] = []
        for (index, item) in items.enumerated() {
            let path = "subscriptions[\(index)]"
            guard let map = reader.mapping(item, path: path, keys: keys) else { continue }
            var valid = true
            let nameNode = map.required("name", reader)
            let name = nameNode.flatMap { reader.string($0, path: map.child("name")) }
            if let name, let nameNode {
                if let problem = Self.subscriptionNameProblem(name) {
                    reader.report("\(map.child("name")): \(problem)", at: nameNode)
                    valid = false
                } else {
                    names.append((name, nameNode))
                }
            }
            let topicNode = map.required("topic", reader)
            let topic = topicNode.flatMap { reader.string($0, path: map.child("topic")) }
            if let topic, let topicNode {
                if let problem = TopicName.problem(in: topic) {
                    reader.report("\(map.child("topic")): \(problem)", at: topicNode)
                    valid = false
                } else if !autoCreateTopics, !topics.contains(topic) {
                    reader.report("\(map.child("topic")): unknown topic '\(topic)' (declare it under topics:, or set autoCreateTopics: true)", at: topicNode)
                    valid = false
                }
            }
            let subscriptionProtocol = map["protocol"].map { self.subscriptionProtocol($0, path: map.child("protocol")) } ?? .stream
            let raw = map["rawMessageDelivery"].flatMap { reader.bool($0, path: map.child("rawMessageDelivery")) } ?? false
            var target: (queue: String?, retention: Duration?)?
            var http: (endpoint: String, deliveryPolicy: HTTPDeliveryPolicy?, redrivePolicy: SubscriptionRedrivePolicy?, confirm: Bool)?
            switch subscriptionProtocol {
            case .http?, .https?:
                http = subscriptionProtocol.flatMap { httpTarget(map, protocol: $0, raw: raw, topic: topic, queues: queues) }
                if http != nil { target = (nil, nil) }
            case .stream?, .sqs?:
                for key in ["endpoint", "deliveryPolicy", "redrivePolicy", "confirm"] {
                    if let node = map.keyNode(key) {
                        reader.report("\(map.child(key)): only for protocol: http or https", at: node)
                        valid = false
                    }
                }
                target = subscriptionProtocol.flatMap { deliveryTarget(map, protocol: $0, topic: topic, queues: queues) }
            case nil:
                break
            }
            let policy = self.policy(map, limits: limits)
            guard valid, let name, let topic, let subscriptionProtocol, let target, let policy else { continue }
            var subscription = HeraldConfig.Subscription(
                name: name, topic: topic, protocol: subscriptionProtocol, filterPolicy: policy.policy,
                filterPolicyText: policy.text, filterPolicyFile: policy.file, rawMessageDelivery: raw,
                queue: target.queue, retention: target.retention)
            if let http {
                subscription.endpoint = http.endpoint
                subscription.deliveryPolicy = http.deliveryPolicy
                subscription.redrivePolicy = http.redrivePolicy
                subscription.confirm = http.confirm
            }
            result.append(subscription)
        }
        reportDuplicates(names, what: "subscription")
        return result
    }

    /// SNS's text for a FIFO queue on a standard topic (spec: a FIFO topic may feed either kind).
    static let fifoQueueOnStandardTopic =
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"

    /// `queue:` (sqs only, required there) and `retention:` (stream only); nil after a problem.
    private func deliveryTarget(
        _ map: ConfigMapping, protocol kind: HeraldConfig.SubscriptionProtocol, topic: String?, queues: Set<String>
    ) -> (queue: String?, retention: Duration?)? {
        switch kind {
        case .stream:
            if let node = map.keyNode("queue") {
                reader.report("\(map.child("queue")): only for protocol: sqs (stream clients attach by the subscription's name)", at: node)
                return nil
            }
            guard let node = map["retention"] else { return (nil, HeraldConfig.Subscription.defaultStreamRetention) }
            guard let retention = reader.duration(node, path: map.child("retention"), range: .seconds(1)...(.seconds(1_209_600))) else { return nil }
            return (nil, retention)
        case .http, .https:
            return nil  // httpTarget
        case .sqs:
            if let node = map.keyNode("retention") {
                reader.report("\(map.child("retention")): only for protocol: stream (an sqs subscription's messages keep the queue's retention)", at: node)
                return nil
            }
            guard let node = map.required("queue", reader), let queue = reader.string(node, path: map.child("queue")) else { return nil }
            guard queues.contains(queue) else {
                reader.report("\(map.child("queue")): unknown queue '\(queue)' (declare it under queues:)", at: node)
                return nil
            }
            if queue.hasSuffix(".fifo"), let topic, !topic.hasSuffix(".fifo") {
                reader.report("\(map.child("queue")): \(Self.fifoQueueOnStandardTopic) (queue '\(queue)', topic '\(topic)')", at: node)
                return nil
            }
            return (queue, nil)
        }
    }

    func subscriptionProtocol(_ node: Node, path: String) -> HeraldConfig.SubscriptionProtocol? {
        guard let text = reader.string(node, path: path) else { return nil }
        if let value = HeraldConfig.SubscriptionProtocol(rawValue: text) { return value }
        if Self.plannedProtocols.contains(text.lowercased()) {
            reader.report("\(path): protocol '\(text)' is not supported yet (supported: stream, sqs, http, https)", at: node)
        } else {
            reader.report("\(path): unknown protocol '\(text)' (supported: stream, sqs, http, https)", at: node)
        }
        return nil
    }

    static func subscriptionNameProblem(_ name: String) -> String? {
        if name.isEmpty || name.count > 256 { return "a subscription name must have 1 to 256 characters" }
        if !name.allSatisfy({ TopicName.isNameCharacter($0) || $0 == "." }) {
            return "subscription name '\(name)' may only use A-Z a-z 0-9 _ - ."
        }
        return nil
    }

    /// The subscription's policy: `(nil, nil, nil)` when it has none, nil when it is invalid.
    func policy(_ map: ConfigMapping, limits: FilterPolicyLimits) -> (policy: FilterPolicy?, text: String?, file: String?)? {
        let scope: FilterPolicyScope?
        if let scopeNode = map["filterPolicyScope"] {
            scope = reader.choice(scopeNode, path: map.child("filterPolicyScope"), as: FilterPolicyScope.self)
            if map["filterPolicy"] == nil, map["filterPolicyFile"] == nil {
                reader.report("\(map.child("filterPolicyScope")): there is no filterPolicy or filterPolicyFile for it to apply to", at: scopeNode)
            }
        } else {
            scope = .messageAttributes
        }
        switch (map["filterPolicy"], map["filterPolicyFile"]) {
        case (nil, nil):
            return (nil, nil, nil)
        case (.some, .some(let fileNode)):
            reader.report("\(map.path): give either filterPolicy or filterPolicyFile, not both", at: fileNode)
            return nil
        case (.some(let inline), nil):
            return inlinePolicy(inline, path: map.child("filterPolicy"), scope: scope, limits: limits)
        case (nil, .some(let fileNode)):
            return filePolicy(fileNode, path: map.child("filterPolicyFile"), scope: scope, limits: limits)
        }
    }

    /// A mapping written in YAML (or JSON flow style), or a string holding the JSON text.
    /// With a nil `scope` (reported already) the policy is read but not validated.
    private func inlinePolicy(_ node: Node, path: String, scope: FilterPolicyScope?, limits: FilterPolicyLimits) -> (FilterPolicy?, String?, String?)? {
        let text: String
        var firstContentLine = node.mark?.line
        switch node {
        case .mapping:
            switch ConfigPolicyJSON.json(from: node, maxBytes: limits.maxPolicyBytes) {
            case .success(let json): text = json
            case .failure:
                reader.report("\(path): the filter policy is larger than \(limits.maxPolicyBytes) bytes (limits.filterPolicy.maxBytes)", at: node)
                return nil
            }
        case .scalar(let scalar) where !ConfigNodeReader.isNull(node):
            text = scalar.string
            // A block scalar's text starts on the line after its `|` or `>`.
            if scalar.style == .literal || scalar.style == .folded { firstContentLine = firstContentLine.map { $0 + 1 } }
        default:
            reader.report("\(path): expected the policy as a mapping or a JSON string, found \(ConfigNodeReader.kind(of: node))", at: node)
            return nil
        }
        guard let scope else { return nil }
        switch ConfigPolicyValidation.parse(text, scope: scope, limits: limits) {
        case .success(let policy):
            return (policy, text, nil)
        case .failure(let rejection):
            let line: Int?
            if case .scalar = node, let start = firstContentLine, let inner = rejection.line {
                line = start + inner - 1
            } else {
                line = node.mark?.line
            }
            reader.report("\(path): invalid filter policy: \(rejection.reason)", file: reader.file, line: line, under: node.mark?.line)
            return nil
        }
    }

    private func filePolicy(_ node: Node, path: String, scope: FilterPolicyScope?, limits: FilterPolicyLimits) -> (FilterPolicy?, String?, String?)? {
        guard let relative = reader.string(node, path: path) else { return nil }
        let shown = resolve(relative)
        // A file over the policy size limit is refused unread (the policy would be too large anyway).
        let text: String
        switch ConfigFiles.readText(shown, maxBytes: limits.maxPolicyBytes) {
        case .success(let contents): text = contents
        case .failure(let problem):
            let hint = problem.message.hasPrefix("the file is larger") ? " (limits.filterPolicy.maxBytes)" : ""
            reader.report("\(path): '\(shown)': \(problem.message)\(hint)", at: node)
            return nil
        }
        guard let scope else { return nil }
        switch ConfigPolicyValidation.parse(text, scope: scope, limits: limits) {
        case .success(let policy):
            return (policy, text, ConfigFiles.absolute(shown))
        case .failure(let rejection):
            let line = node.mark.map { " (\(path) at \(reader.file):\($0.line))" } ?? ""
            reader.report("invalid filter policy: \(rejection.reason)\(line)", file: shown, line: rejection.line ?? 1, under: node.mark?.line)
            return nil
        }
    }
}
