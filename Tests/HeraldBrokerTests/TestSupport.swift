import FilterPolicy
import HeraldCore
import Synchronization
@testable import HeraldBroker

/// A deliberately naive matcher for broker tests: evaluates exact-string and exists conditions on
/// message attributes (the only conditions these tests use) by scanning every policy. The real
/// compiled engine plugs in through the same seam.
struct AttributeMatcherFactory: SubscriptionMatcherFactory {
    let builds = BuildCounter()

    func makeMatcher(_ policies: [(id: Int, policy: FilterPolicy?)]) -> any SubscriptionMatcher {
        builds.count.add(1)
        builds.policies.add(policies.count)
        return AttributeMatcher(policies: policies)
    }
}

final class BuildCounter: Sendable {
    let count = Atomic<UInt64>(0)
    /// Policies passed to the factory, over all builds.
    let policies = Atomic<UInt64>(0)
}

struct AttributeMatcher: SubscriptionMatcher {
    let policies: [(id: Int, policy: FilterPolicy?)]

    func matches(attributes: MessageAttributes, body: [UInt8]) -> [Int] {
        policies.filter { Self.holds($0.policy, attributes) }.map(\.id)
    }

    static func holds(_ policy: FilterPolicy?, _ attributes: MessageAttributes) -> Bool {
        guard let policy else { return true }
        return policy.branches.contains { branch in
            branch.allSatisfy { key in
                key.conditions.contains { condition in
                    switch condition {
                    case .exactString(let text):
                        return attributes[key.path]?.filterKind == .string && attributes[key.path]?.stringValue == text
                    case .exists(let wanted):
                        return (attributes[key.path] != nil) == wanted
                    default:
                        return false
                    }
                }
            }
        }
    }
}

/// `{"<key>": ["<value>"]}`.
func policy(_ key: String, _ value: String) -> FilterPolicy {
    FilterPolicy(
        scope: .messageAttributes,
        root: PolicyConjunction(keys: [KeyCondition(path: key, conditions: [.exactString(value)])]))
}

func request(_ topic: String, _ body: String, color: String? = nil) -> PublishRequest {
    var attributes: MessageAttributes = [:]
    if let color { attributes["color"] = .string(color) }
    return PublishRequest(topic: topic, attributes: attributes, body: Array(body.utf8))
}

extension StreamDelivery {
    var bodyText: String { String(decoding: message.body, as: UTF8.self) }
}

/// A session's sink that records every call.
final class RecordingSink: StreamSink {
    let calls = Mutex<[[StreamDelivery]]>([])
    let reasons = Mutex<[DisconnectReason]>([])
    /// Per call, whether the broker said the deliveries hold their messages' last references.
    let soleHolderFlags = Mutex<[Bool]>([])

    func deliver(_ deliveries: [StreamDelivery]) { deliver(deliveries, soleHolder: false) }
    func deliver(_ deliveries: [StreamDelivery], soleHolder: Bool) {
        soleHolderFlags.withLock { $0.append(soleHolder) }
        calls.withLock { $0.append(deliveries) }
    }
    var soleHolders: [Bool] { soleHolderFlags.withLock { $0 } }
    func disconnect(reason: DisconnectReason) { reasons.withLock { $0.append(reason) } }

    var callCount: Int { calls.withLock { $0.count } }
    var deliveries: [StreamDelivery] { calls.withLock { $0.flatMap { $0 } } }
    var bodies: [String] { deliveries.map(\.bodyText) }
    var tags: [UInt64] { deliveries.map(\.deliveryTag) }
    var disconnects: [DisconnectReason] { reasons.withLock { $0 } }
    func reset() { calls.withLock { $0 = [] } }
}

/// A configured endpoint that records every call.
final class RecordingEndpoint: MessageEndpoint {
    let calls = Mutex<[[Message]]>([])
    func deliver(_ messages: [Message]) -> DeliveryReceipt {
        calls.withLock { $0.append(messages) }
        return .done
    }
    var bodies: [String] { calls.withLock { $0.flatMap { $0 }.map { String(decoding: $0.body, as: UTF8.self) } } }
    var callCount: Int { calls.withLock { $0.count } }
}

func makeBroker(
    autoCreate: Bool = false, topics: [String] = ["orders"], configure: (inout BrokerLimits) -> Void = { _ in }
) throws -> (Broker, AttributeMatcherFactory) {
    var limits = BrokerLimits()
    configure(&limits)
    let factory = AttributeMatcherFactory()
    let broker = Broker(options: BrokerOptions(autoCreateTopics: autoCreate, limits: limits), matcherFactory: factory, idSeed: 42)
    try broker.applyConfiguration(topics.map { TopicConfiguration(name: $0) })
    return (broker, factory)
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}

extension Broker {
    /// Attaches as one named test user, the owner of every session in tests that are not about
    /// ownership (SessionOwnershipTests are).
    func attachSession(_ id: SessionID, sink: any StreamSink, now: UInt64) throws(BrokerError) -> StreamSessionHandle {
        try attachSession(id, owner: .user("test-user"), sink: sink, now: now)
    }
}

extension Broker {
    /// Tests that look at congestion only (every target here answers at once).
    func publish(_ batch: [PublishRequest], congestion: inout PublishCongestion?) -> [Result<MessageID, BrokerError>] {
        var receipts: PublishReceipts?
        return publish(batch, congestion: &congestion, receipts: &receipts)
    }
}
