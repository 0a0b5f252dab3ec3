import HeraldCore

extension Broker {
    /// Adds (or replaces, keeping its place) a named subscription made at run time — SNS Subscribe
    /// of a queue — on an existing topic. Live for the next publish when this returns.
    public func putSubscription(topic: String, _ subscription: ConfiguredSubscription) throws(BrokerError) {
        try validateIdentifier(subscription.name, what: "subscription name")
        try registry.withLock { (reg: inout Registry) throws(BrokerError) in
            guard var entry = reg.topics.removeValue(forKey: topic) else { throw .topicNotFound(topic: topic) }
            defer {
                reg.topics[topic] = entry
                publishRoute(topic, in: &reg)
            }
            guard entry.configuredSlots[subscription.name] == nil else {
                throw .invalidParameter("Subscription \(subscription.name) is declared in the configuration; change it there")
            }
            if entry.runtimeSlots[subscription.name] == nil {
                guard entry.subscriptionCount < limits.maxSubscriptionsPerTopic else {
                    throw .tooManySubscriptionsForTopic(topic: topic, limit: limits.maxSubscriptionsPerTopic)
                }
                guard reg.subscriptionTotal < limits.maxSubscriptions else { throw .tooManySubscriptions(limit: limits.maxSubscriptions) }
            }
            if entry.putRuntime(subscription, makeID: { reg.makeSubscriptionID() }) { reg.subscriptionTotal += 1 }
        }
    }

    /// Removes the run-time subscription `name` from `topic`; false when there was none.
    @discardableResult
    public func removeSubscription(topic: String, name: String) -> Bool {
        registry.withLock { reg in
            guard var entry = reg.topics.removeValue(forKey: topic) else { return false }
            let removed = entry.removeRuntime(name)
            reg.topics[topic] = entry
            if removed {
                reg.subscriptionTotal -= 1
                publishRoute(topic, in: &reg)
            }
            return removed
        }
    }
}
