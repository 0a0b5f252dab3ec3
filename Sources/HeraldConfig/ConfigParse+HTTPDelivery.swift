import HeraldCore
import Yams

/// The HTTP/S delivery settings: `httpDelivery:` at the top, and the SNS policies a topic or an
/// HTTP/S subscription carries (`deliveryPolicy:`, `redrivePolicy:`), written as YAML mappings or
/// JSON strings and validated by HeraldCore's delivery-policy parsers (SNS's error texts).
extension ConfigParse {
    func httpDelivery(_ node: Node) -> HeraldConfig.HTTPDelivery {
        var delivery = HeraldConfig.HTTPDelivery()
        guard let map = reader.mapping(node, path: "httpDelivery", keys: ["caFile", "timeout", "maxConnectionsPerEndpoint"]) else { return delivery }
        if let node = map["caFile"], let path = reader.string(node, path: map.child("caFile")) {
            let resolved = resolve(path)
            if case .failure(let problem) = ConfigFiles.readText(resolved, maxBytes: 4 << 20) {
                reader.report("\(map.child("caFile")): '\(resolved)': \(problem.message)", at: node)
            }
            delivery.caFile = ConfigFiles.absolute(resolved)
        }
        if let node = map["timeout"], let value = reader.duration(node, path: map.child("timeout"), range: .milliseconds(100)...(.seconds(300))) {
            delivery.timeout = value
        }
        if let node = map["maxConnectionsPerEndpoint"],
           let value = reader.integer(node, path: map.child("maxConnectionsPerEndpoint"), range: 1...1_000) {
            delivery.maxConnectionsPerEndpoint = value
        }
        return delivery
    }

    /// `aws: {region, account}`: a region as AWS spells them (`us-east-1`, `eu-central-2`), an
    /// account of 12 digits.
    func awsIdentity(_ node: Node) -> HeraldConfig.AWSIdentity {
        var identity = HeraldConfig.AWSIdentity()
        guard let map = reader.mapping(node, path: "aws", keys: ["region", "account"]) else { return identity }
        if let node = map["region"], let text = reader.string(node, path: map.child("region")) {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            if parts.count >= 3, parts.dropLast().allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }),
               let last = parts.last, !last.isEmpty, last.allSatisfy({ $0.isASCII && $0.isNumber }) {
                identity.region = text
            } else {
                reader.report("\(map.child("region")): '\(text)' is not a region name like us-east-1", at: node)
            }
        }
        if let node = map["account"], let text = reader.string(node, path: map.child("account")) {
            if text.count == 12, text.allSatisfy({ $0.isASCII && $0.isNumber }) {
                identity.account = text
            } else {
                reader.report("\(map.child("account")): an account id has 12 digits (quote it: \"000000000000\")", at: node)
            }
        }
        return identity
    }

    /// A topic's `deliveryPolicy:` (SNS's `{"http": {…}}` form); nil after a reported problem.
    func topicDeliveryPolicy(_ node: Node, path: String) -> HTTPTopicDeliveryPolicy?? {
        guard let bytes = policyJSON(node, path: path) else { return .none }
        do {
            return .some(try HTTPTopicDeliveryPolicy.parse(bytes))
        } catch {
            reader.report("\(path): \(error.message)", at: node)
            return .none
        }
    }

    /// An HTTP/S subscription's `endpoint`, `deliveryPolicy`, `redrivePolicy` and `confirm`; nil
    /// after a reported problem.
    func httpTarget(
        _ map: ConfigMapping, protocol kind: HeraldConfig.SubscriptionProtocol, raw: Bool, topic: String?, queues: Set<String>
    ) -> (endpoint: String, deliveryPolicy: HTTPDeliveryPolicy?, redrivePolicy: SubscriptionRedrivePolicy?, confirm: Bool)? {
        for key in ["queue", "retention"] {
            if let node = map.keyNode(key) {
                reader.report("\(map.child(key)): not for protocol: \(kind.rawValue) (an HTTP/S subscription has endpoint:)", at: node)
                return nil
            }
        }
        guard let node = map.required("endpoint", reader), let endpoint = reader.string(node, path: map.child("endpoint")) else { return nil }
        if let problem = HeraldConfig.SubscriptionProtocol.endpointProblem(endpoint, protocol: kind.rawValue) {
            reader.report("\(map.child("endpoint")): '\(EndpointURL.withoutCredentials(endpoint))': \(problem)", at: node)
            return nil
        }
        if let topic, TopicName.isFIFO(topic) {
            reader.report("\(map.child("protocol")): FIFO topics deliver to SQS queues only (SNS has no \(kind.rawValue) subscriptions on FIFO topics)", at: node)
            return nil
        }
        var valid = true
        var deliveryPolicy: HTTPDeliveryPolicy?
        if let node = map["deliveryPolicy"] {
            if let bytes = policyJSON(node, path: map.child("deliveryPolicy")) {
                do {
                    deliveryPolicy = try HTTPDeliveryPolicy.parse(bytes, rawMessageDelivery: raw)
                } catch {
                    reader.report("\(map.child("deliveryPolicy")): \(error.message)", at: node)
                    valid = false
                }
            } else {
                valid = false
            }
        }
        var redrivePolicy: SubscriptionRedrivePolicy?
        if let node = map["redrivePolicy"] {
            redrivePolicy = self.redrivePolicy(node, path: map.child("redrivePolicy"), topic: topic, queues: queues)
            if redrivePolicy == nil { valid = false }
        }
        let confirm = map["confirm"].flatMap { reader.bool($0, path: map.child("confirm")) } ?? false
        guard valid else { return nil }
        return (endpoint, deliveryPolicy, redrivePolicy, confirm)
    }

    private func redrivePolicy(_ node: Node, path: String, topic: String?, queues: Set<String>) -> SubscriptionRedrivePolicy? {
        guard let bytes = policyJSON(node, path: path) else { return nil }
        let policy: SubscriptionRedrivePolicy
        do {
            policy = try SubscriptionRedrivePolicy.parse(bytes)
        } catch {
            reader.report("\(path): \(error.message)", at: node)
            return nil
        }
        guard queues.contains(policy.deadLetterQueue) else {
            reader.report("\(path): unknown dead-letter queue '\(policy.deadLetterQueue)' (declare it under queues:)", at: node)
            return nil
        }
        if let topic, TopicName.isFIFO(topic), !policy.deadLetterQueue.hasSuffix(".fifo") {
            reader.report("\(path): Invalid parameter: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.", at: node)
            return nil
        }
        return policy
    }

    /// The JSON bytes of a policy written as a mapping or as a JSON string; nil after a problem.
    private func policyJSON(_ node: Node, path: String) -> [UInt8]? {
        switch node {
        case .mapping:
            switch ConfigPolicyJSON.json(from: node, maxBytes: 65_536) {
            case .success(let json): return Array(json.utf8)
            case .failure:
                reader.report("\(path): the policy is larger than 65536 bytes", at: node)
                return nil
            }
        case .scalar(let scalar) where !ConfigNodeReader.isNull(node):
            return Array(scalar.string.utf8)
        default:
            reader.report("\(path): expected a mapping or a JSON string, found \(ConfigNodeReader.kind(of: node))", at: node)
            return nil
        }
    }
}
