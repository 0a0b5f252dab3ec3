import FilterPolicy
import HeraldBroker
import HeraldCore

/// Plugs the compiled filter engine into the broker: each topic's subscription policies become one
/// `PolicyMatcher` snapshot (one call per message returns every matching subscription).
struct CompiledMatcherFactory: SubscriptionMatcherFactory {
    func makeMatcher(_ policies: [(id: Int, policy: FilterPolicy?)]) -> any SubscriptionMatcher {
        var builder = PolicyMatcherBuilder()
        for (id, policy) in policies { builder.add(id, policy) }
        return builder.build()
    }
}

extension PolicyMatcher: SubscriptionMatcher {}
