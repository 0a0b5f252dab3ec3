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
        // Each scope's input is built once per message, not once per policy.
        var attributeInput: FilterInput?
        var bodyInput: FilterInput?
        var matched: [Int] = []
        for entry in policies {
            guard let policy = entry.policy else {
                matched.append(entry.id)
                continue
            }
            let input: FilterInput
            switch policy.scope {
            case .messageAttributes:
                if attributeInput == nil { attributeInput = .attributes(attributes) }
                input = attributeInput ?? .attributes(attributes)
            case .messageBody:
                if bodyInput == nil { bodyInput = .body(body) }
                input = bodyInput ?? .body(body)
            }
            if ReferenceEvaluator.matches(policy, input) { matched.append(entry.id) }
        }
        return matched
    }
}
