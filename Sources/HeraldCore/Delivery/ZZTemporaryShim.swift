// TEMPORARY: stands in for the delivery-policy core being written on branch h-policy; removed
// when that branch is merged. Nothing here is the real behaviour.
public enum BackoffFunction: String, Sendable, Hashable, CaseIterable { case linear, arithmetic, geometric, exponential }

public struct HTTPRetryPolicy: Sendable, Hashable {
    public var minDelayTarget = 20, maxDelayTarget = 20, numRetries = 3, numNoDelayRetries = 0, numMinDelayRetries = 0, numMaxDelayRetries = 0
    public var backoffFunction = BackoffFunction.linear
    public static let snsDefault = HTTPRetryPolicy()
    public func delay(beforeRetry retry: Int) -> Int? { retry <= numRetries ? minDelayTarget : nil }
    public var schedule: [Int] { (1...max(numRetries, 1)).compactMap { delay(beforeRetry: $0) } }
}
public struct HTTPThrottlePolicy: Sendable, Hashable { public var maxReceivesPerSecond: Int }
public struct HTTPRequestPolicy: Sendable, Hashable { public var headerContentType: String }
public struct HTTPDeliveryPolicy: Sendable, Hashable {
    public var healthyRetryPolicy: HTTPRetryPolicy?
    public var throttlePolicy: HTTPThrottlePolicy?
    public var requestPolicy: HTTPRequestPolicy?
    public static func parse(_ json: [UInt8], rawMessageDelivery: Bool) throws(HeraldError) -> HTTPDeliveryPolicy { HTTPDeliveryPolicy() }
    public static func parse(_ value: JSONValue, rawMessageDelivery: Bool) throws(HeraldError) -> HTTPDeliveryPolicy { HTTPDeliveryPolicy() }
}
public struct HTTPTopicDeliveryPolicy: Sendable, Hashable {
    public var defaultHealthyRetryPolicy: HTTPRetryPolicy?
    public var disableSubscriptionOverrides = false
    public var defaultThrottlePolicy: HTTPThrottlePolicy?
    public var defaultRequestPolicy: HTTPRequestPolicy?
    public static func parse(_ json: [UInt8]) throws(HeraldError) -> HTTPTopicDeliveryPolicy { HTTPTopicDeliveryPolicy() }
    public static func parse(_ value: JSONValue) throws(HeraldError) -> HTTPTopicDeliveryPolicy { HTTPTopicDeliveryPolicy() }
}
public struct EffectiveHTTPDeliveryPolicy: Sendable, Hashable {
    public var retry = HTTPRetryPolicy.snsDefault
    public var maxReceivesPerSecond: Int?
    public var headerContentType = "text/plain; charset=UTF-8"
    public init(topic: HTTPTopicDeliveryPolicy?, subscription: HTTPDeliveryPolicy?) {}
    public var jsonText: String { "{}" }
}
public enum HTTPDeliveryOutcome: Sendable, Hashable {
    case delivered, retryable, permanent
    public init(status: Int) { self = (200..<300).contains(status) ? .delivered : (status >= 500 || status == 429 ? .retryable : .permanent) }
}
public enum DeliveryJitter { public static func apply(_ seconds: Int, using random: inout some RandomNumberGenerator) -> Int { seconds } }
public struct ThrottleBucket: Sendable {
    public init(ratePerSecond: Int, burst: Int? = nil) {}
    public mutating func take(nowNanoseconds: UInt64) -> UInt64 { 0 }
}
public struct SubscriptionRedrivePolicy: Sendable, Hashable {
    public var deadLetterQueue: String
    public static func parse(_ json: [UInt8]) throws(HeraldError) -> SubscriptionRedrivePolicy { SubscriptionRedrivePolicy(deadLetterQueue: "") }
    public static func parse(_ value: JSONValue) throws(HeraldError) -> SubscriptionRedrivePolicy { SubscriptionRedrivePolicy(deadLetterQueue: "") }
}
