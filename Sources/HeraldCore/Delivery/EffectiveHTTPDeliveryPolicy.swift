/// What applies to one HTTP/S subscription: SNS's defaults, overridden part by part by the topic's
/// policy, overridden part by part by the subscription's — unless the topic sets
/// `disableSubscriptionOverrides`, which makes the subscription's policy count for nothing (spec §5.2).
/// A part is the retry policy, the throttle policy or the request policy; a policy without a part
/// leaves the one below it in force.
///
/// The delivery path computes it when a subscription or its topic's policy changes and keeps it
/// with the subscription. Pure value.
public struct EffectiveHTTPDeliveryPolicy: Sendable, Hashable {
    public var retry: HTTPRetryPolicy
    /// nil: no throttling.
    public var maxReceivesPerSecond: Int?
    public var headerContentType: String

    public init(topic: HTTPTopicDeliveryPolicy?, subscription: HTTPDeliveryPolicy?) {
        retry = .snsDefault
        maxReceivesPerSecond = nil
        headerContentType = HTTPRequestPolicy.snsDefaultContentType
        if let topic {
            if let policy = topic.defaultHealthyRetryPolicy { retry = policy }
            if let throttle = topic.defaultThrottlePolicy { maxReceivesPerSecond = throttle.maxReceivesPerSecond }
            if let request = topic.defaultRequestPolicy { headerContentType = request.headerContentType }
        }
        guard let subscription, topic?.disableSubscriptionOverrides != true else { return }
        if let policy = subscription.healthyRetryPolicy { retry = policy }
        if let throttle = subscription.throttlePolicy { maxReceivesPerSecond = throttle.maxReceivesPerSecond }
        if let request = subscription.requestPolicy { headerContentType = request.headerContentType }
    }

    /// SNS's EffectiveDeliveryPolicy subscription attribute JSON text (spec §5.2 [VERIFIED] shape):
    /// `{"healthyRetryPolicy":{…},"sicklyRetryPolicy":null,"throttlePolicy":null|{…},"requestPolicy":{…},"guaranteed":false}`.
    public var jsonText: String {
        let throttle: JSONValue = maxReceivesPerSecond.map { HTTPThrottlePolicy(maxReceivesPerSecond: $0).json } ?? .null
        return JSONValue.object([
            .init(key: "healthyRetryPolicy", value: retry.json),
            .init(key: "sicklyRetryPolicy", value: .null),
            .init(key: "throttlePolicy", value: throttle),
            .init(key: "requestPolicy", value: HTTPRequestPolicy(headerContentType: headerContentType).json),
            .init(key: "guaranteed", value: .bool(false)),
        ]).text
    }
}
