import FilterPolicy
import HeraldCore

/// The seam between the broker and the compiled filter engine.
///
/// A matcher is an immutable snapshot built from subscription policies of one topic; one call
/// returns the ids of every matching subscription (each once, any order). The ids are the ones the
/// broker passed to `SubscriptionMatcherFactory.makeMatcher`: small dense slot numbers, stable for
/// a subscription's lifetime, reused only after the matchers that knew them are rebuilt.
///
/// The compiled engine plugs in with `extension PolicyMatcher: SubscriptionMatcher {}` plus a
/// factory that feeds `PolicyMatcherBuilder` (`add` each pair, then `build()`); tests use a small
/// matcher of their own.
public protocol SubscriptionMatcher: Sendable {
    func matches(attributes: MessageAttributes, body: [UInt8]) -> [Int]
}

/// Builds a topic's matcher snapshot. Called by the broker under its registry lock (subscribe,
/// unsubscribe, reload), never on the publish path. A `nil` policy receives every message.
public protocol SubscriptionMatcherFactory: Sendable {
    func makeMatcher(_ policies: [(id: Int, policy: FilterPolicy?)]) -> any SubscriptionMatcher
}
