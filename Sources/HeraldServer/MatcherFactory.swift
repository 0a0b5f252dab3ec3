import FilterPolicy
import HeraldBroker
import HeraldCore

/// Plugs the filter engine into the broker: each topic's subscription policies become one matcher.
struct ReferenceMatcherFactory: SubscriptionMatcherFactory {
    func makeMatcher(_ policies: [(id: Int, policy: FilterPolicy?)]) -> any SubscriptionMatcher {
        ReferenceMatcher(policies: policies)
    }
}

/// Linear evaluation with the reference evaluator (placeholder until the compiled matcher lands).
struct ReferenceMatcher: SubscriptionMatcher {
    let policies: [(id: Int, policy: FilterPolicy?)]

    func matches(attributes: MessageAttributes, body: [UInt8]) -> [Int] {
        policies.compactMap { entry in
            guard let policy = entry.policy else { return entry.id }
            return ReferenceEvaluator.matches(policy, attributes: attributes, body: body) ? entry.id : nil
        }
    }
}
