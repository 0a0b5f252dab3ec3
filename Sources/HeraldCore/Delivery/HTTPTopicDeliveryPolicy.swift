/// A topic's `DeliveryPolicy` attribute, HTTP/S part:
/// `{"http":{"defaultHealthyRetryPolicy":…,"disableSubscriptionOverrides":bool,"defaultThrottlePolicy":…,"defaultRequestPolicy":…}}`.
/// Its parts are the defaults of the topic's HTTP/S subscriptions; with `disableSubscriptionOverrides`
/// the subscriptions' own policies are ignored (`EffectiveHTTPDeliveryPolicy`). Any other top-level
/// member is SNS's "Unexpected JSON member" (e.g. a subscription-style `throttlePolicy`, as AWS
/// answers); `defaultSicklyRetryPolicy` is accepted and ignored. Only application/json and
/// text/plain may be set as the content type (spec §4.3).
///
/// Callers: the SNS API (CreateTopic, SetTopicAttributes) and the configuration loader. Pure.
public struct HTTPTopicDeliveryPolicy: Sendable, Hashable {
    public var defaultHealthyRetryPolicy: HTTPRetryPolicy?
    public var disableSubscriptionOverrides: Bool
    public var defaultThrottlePolicy: HTTPThrottlePolicy?
    public var defaultRequestPolicy: HTTPRequestPolicy?

    public init(
        defaultHealthyRetryPolicy: HTTPRetryPolicy? = nil, disableSubscriptionOverrides: Bool = false,
        defaultThrottlePolicy: HTTPThrottlePolicy? = nil, defaultRequestPolicy: HTTPRequestPolicy? = nil
    ) {
        self.defaultHealthyRetryPolicy = defaultHealthyRetryPolicy
        self.disableSubscriptionOverrides = disableSubscriptionOverrides
        self.defaultThrottlePolicy = defaultThrottlePolicy
        self.defaultRequestPolicy = defaultRequestPolicy
    }

    static let httpMemberNames = [
        "defaultHealthyRetryPolicy", "defaultSicklyRetryPolicy", "disableSubscriptionOverrides",
        "defaultThrottlePolicy", "defaultRequestPolicy",
    ]

    /// Parses and validates SNS's JSON; errors name the member's full path, as AWS does
    /// ("Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100").
    public static func parse(_ json: [UInt8]) throws(HeraldError) -> HTTPTopicDeliveryPolicy {
        try parse(HTTPDeliveryPolicy.reader.parse(json))
    }

    public static func parse(_ value: JSONValue) throws(HeraldError) -> HTTPTopicDeliveryPolicy {
        let reader = HTTPDeliveryPolicy.reader
        let top = try reader.members(of: value, at: nil, allowed: ["http"])
        var policy = HTTPTopicDeliveryPolicy()
        guard let http = reader.object(top, "http") else { return policy }
        let members = try reader.members(of: http, at: "http", allowed: httpMemberNames)
        if let retry = reader.object(members, "defaultHealthyRetryPolicy") {
            policy.defaultHealthyRetryPolicy = try HTTPRetryPolicy.read(
                retry, path: "http.defaultHealthyRetryPolicy", reader: reader)
        }
        if let sickly = reader.object(members, "defaultSicklyRetryPolicy") {
            guard case .object = sickly else { throw reader.failure("http.defaultSicklyRetryPolicy must be a JSON object") }
        }
        policy.disableSubscriptionOverrides = try reader.bool(members, "disableSubscriptionOverrides", path: "http") ?? false
        if let throttle = reader.object(members, "defaultThrottlePolicy") {
            policy.defaultThrottlePolicy = try HTTPThrottlePolicy.read(
                throttle, path: "http.defaultThrottlePolicy", reader: reader)
        }
        if let request = reader.object(members, "defaultRequestPolicy") {
            policy.defaultRequestPolicy = try HTTPRequestPolicy.read(
                request, path: "http.defaultRequestPolicy", rawMessageDelivery: false, reader: reader)
        }
        return policy
    }

    /// SNS's topic EffectiveDeliveryPolicy JSON text (spec §5.2 [VERIFIED] shape): the SNS defaults
    /// overridden by this policy's parts; `defaultThrottlePolicy` only when set. `nil` gives SNS's default.
    public static func effectiveJSONText(_ policy: HTTPTopicDeliveryPolicy?) -> String {
        let retry = policy?.defaultHealthyRetryPolicy ?? .snsDefault
        var http: [JSONValue.Member] = [
            .init(key: "defaultHealthyRetryPolicy", value: retry.json),
            .init(key: "disableSubscriptionOverrides", value: .bool(policy?.disableSubscriptionOverrides ?? false)),
        ]
        if let throttle = policy?.defaultThrottlePolicy {
            http.append(.init(key: "defaultThrottlePolicy", value: throttle.json))
        }
        let contentType = policy?.defaultRequestPolicy?.headerContentType ?? HTTPRequestPolicy.snsDefaultContentType
        http.append(.init(key: "defaultRequestPolicy", value: HTTPRequestPolicy(headerContentType: contentType).json))
        return JSONValue.object([.init(key: "http", value: .object(http))]).text
    }
}

extension HTTPThrottlePolicy {
    var json: JSONValue { .object([.init(key: "maxReceivesPerSecond", value: .number(String(maxReceivesPerSecond)))]) }
}

extension HTTPRequestPolicy {
    var json: JSONValue { .object([.init(key: "headerContentType", value: .string(headerContentType))]) }
}
