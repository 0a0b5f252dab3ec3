/// `throttlePolicy`: an average cap on deliveries per second to one subscription (spec §5.2).
/// SNS says it caps an average and allows short bursts; `ThrottleBucket` enforces it.
public struct HTTPThrottlePolicy: Sendable, Hashable {
    /// Average deliveries per second (≥ 1).
    public var maxReceivesPerSecond: Int

    public init(maxReceivesPerSecond: Int) {
        self.maxReceivesPerSecond = maxReceivesPerSecond
    }
}

/// `requestPolicy`: what the POST carries. Only the Content-Type can be set (spec §4.3).
public struct HTTPRequestPolicy: Sendable, Hashable {
    /// SNS's Content-Type when no policy sets one, also for JSON envelopes.
    public static let snsDefaultContentType = "text/plain; charset=UTF-8"

    /// Allowed with raw message delivery off, and on topics (spec §4.3). SNS's own default text is
    /// accepted too, so an EffectiveDeliveryPolicy copied back into DeliveryPolicy parses (Herald's choice).
    public static let contentTypes: [String] = ["application/json", "text/plain"]
    /// Allowed with raw message delivery on (spec §4.3), SNS's default text again accepted as well.
    public static let rawContentTypes: [String] = [
        "text/css", "text/csv", "text/html", "text/plain", "text/xml", "application/atom+xml",
        "application/json", "application/octet-stream", "application/soap+xml",
        "application/x-www-form-urlencoded", "application/xhtml+xml", "application/xml",
    ]

    public var headerContentType: String

    public init(headerContentType: String = HTTPRequestPolicy.snsDefaultContentType) {
        self.headerContentType = headerContentType
    }

    /// Whether SNS lets a policy set `contentType` (exact match, as SNS lists them).
    public static func allows(_ contentType: String, rawMessageDelivery: Bool) -> Bool {
        contentType == snsDefaultContentType
            || (rawMessageDelivery ? rawContentTypes : contentTypes).contains(contentType)
    }
}

/// A subscription's `DeliveryPolicy` attribute (HTTP/S subscriptions):
/// `{"healthyRetryPolicy":{…},"throttlePolicy":{…},"requestPolicy":{…}}`. `sicklyRetryPolicy` and
/// `guaranteed` (deprecated, spec §5.2) are accepted and ignored; a member set to `null` counts as
/// absent, as SNS itself reports unset parts as null. What applies to deliveries is the merge with
/// the topic's policy, `EffectiveHTTPDeliveryPolicy`.
///
/// Callers: the SNS API (Subscribe and SetSubscriptionAttributes, DeliveryPolicy) and the
/// configuration loader. Pure; safe from any thread.
public struct HTTPDeliveryPolicy: Sendable, Hashable {
    public var healthyRetryPolicy: HTTPRetryPolicy?
    public var throttlePolicy: HTTPThrottlePolicy?
    public var requestPolicy: HTTPRequestPolicy?

    public init(
        healthyRetryPolicy: HTTPRetryPolicy? = nil, throttlePolicy: HTTPThrottlePolicy? = nil,
        requestPolicy: HTTPRequestPolicy? = nil
    ) {
        self.healthyRetryPolicy = healthyRetryPolicy
        self.throttlePolicy = throttlePolicy
        self.requestPolicy = requestPolicy
    }

    static let reader = PolicyDocumentReader(attribute: "DeliveryPolicy")
    static let memberNames = ["healthyRetryPolicy", "sicklyRetryPolicy", "throttlePolicy", "requestPolicy", "guaranteed"]

    /// Parses and validates SNS's JSON. Errors are HeraldError(.invalidParameter, "Invalid
    /// parameter: DeliveryPolicy: …") with SNS's texts where recorded (see `HTTPRetryPolicy+JSON.swift`).
    /// `rawMessageDelivery` decides which content types are allowed (spec §4.3).
    public static func parse(_ json: [UInt8], rawMessageDelivery: Bool) throws(HeraldError) -> HTTPDeliveryPolicy {
        try parse(reader.parse(json), rawMessageDelivery: rawMessageDelivery)
    }

    public static func parse(_ value: JSONValue, rawMessageDelivery: Bool) throws(HeraldError) -> HTTPDeliveryPolicy {
        let reader = Self.reader
        let members = try reader.members(of: value, at: nil, allowed: memberNames)
        var policy = HTTPDeliveryPolicy()
        if let retry = reader.object(members, "healthyRetryPolicy") {
            policy.healthyRetryPolicy = try HTTPRetryPolicy.read(retry, path: "healthyRetryPolicy", reader: reader)
        }
        if let sickly = reader.object(members, "sicklyRetryPolicy") {
            guard case .object = sickly else { throw reader.failure("sicklyRetryPolicy must be a JSON object") }
        }
        _ = try reader.bool(members, "guaranteed", path: nil)
        if let throttle = reader.object(members, "throttlePolicy") {
            policy.throttlePolicy = try HTTPThrottlePolicy.read(throttle, path: "throttlePolicy", reader: reader)
        }
        if let request = reader.object(members, "requestPolicy") {
            policy.requestPolicy = try HTTPRequestPolicy.read(
                request, path: "requestPolicy", rawMessageDelivery: rawMessageDelivery, reader: reader)
        }
        return policy
    }
}

extension HTTPThrottlePolicy {
    /// `maxReceivesPerSecond` is required and ≥ 1. Texts are Herald's, in AWS's wording.
    static func read(_ value: JSONValue, path: String, reader: PolicyDocumentReader) throws(HeraldError) -> HTTPThrottlePolicy {
        let members = try reader.members(of: value, at: path, allowed: ["maxReceivesPerSecond"])
        let rate = try reader.integer(members, "maxReceivesPerSecond", path: path, required: true) ?? 0
        guard rate >= 1 else { throw reader.failure("\(path).maxReceivesPerSecond must be greater than or equal to 1") }
        return HTTPThrottlePolicy(maxReceivesPerSecond: rate)
    }
}

extension HTTPRequestPolicy {
    /// `headerContentType` is required and must be in the allowed set. Texts are Herald's: SNS's
    /// wording for a refused content type is not recorded.
    static func read(
        _ value: JSONValue, path: String, rawMessageDelivery: Bool, reader: PolicyDocumentReader
    ) throws(HeraldError) -> HTTPRequestPolicy {
        let members = try reader.members(of: value, at: path, allowed: ["headerContentType"])
        guard let type = try reader.string(members, "headerContentType", path: path) else {
            throw reader.failure("\(path).headerContentType must be specified")
        }
        guard allows(type, rawMessageDelivery: rawMessageDelivery) else {
            let allowed = (rawMessageDelivery ? rawContentTypes : contentTypes).joined(separator: ", ")
            throw reader.failure("\(path).headerContentType must be one of \(allowed)")
        }
        return HTTPRequestPolicy(headerContentType: type)
    }
}
