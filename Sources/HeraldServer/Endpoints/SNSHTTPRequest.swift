import HeraldCore
import HeraldWire

/// The POSTs SNS sends to HTTP/S endpoints (spec/sns-spec.md §4.3): SNS's fixed headers, the
/// message type and ids, and the content type. Pure: the caller brings the rendered body.
enum SNSHTTPRequest {
    static let userAgent = "Amazon Simple Notification Service Agent"
    static let defaultContentType = "text/plain; charset=UTF-8"

    /// A `Notification`: the JSON envelope, or with raw delivery the bare message (and
    /// `x-amz-sns-rawdelivery: true`; attributes are not sent, as SNS does).
    static func notification(
        body: [UInt8], messageID: String, topicArn: String, subscriptionArn: String, raw: Bool, contentType: String
    ) -> HTTPRequest {
        var headers = common(type: "Notification", messageID: messageID, topicArn: topicArn, contentType: contentType)
        headers.append("x-amz-sns-subscription-arn", subscriptionArn)
        if raw { headers.append("x-amz-sns-rawdelivery", "true") }
        return HTTPRequest(method: "POST", target: "/", headers: headers, body: body)
    }

    /// A `SubscriptionConfirmation` (no subscription ARN header, as SNS sends it) or an
    /// `UnsubscribeConfirmation` (with it). Always JSON, always SNS's default content type.
    static func confirmation(
        body: [UInt8], kind: SNSEnvelope.Confirmation.Kind, messageID: String, topicArn: String, subscriptionArn: String
    ) -> HTTPRequest {
        var headers = common(type: kind.rawValue, messageID: messageID, topicArn: topicArn, contentType: defaultContentType)
        if kind == .unsubscribe { headers.append("x-amz-sns-subscription-arn", subscriptionArn) }
        return HTTPRequest(method: "POST", target: "/", headers: headers, body: body)
    }

    private static func common(type: String, messageID: String, topicArn: String, contentType: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.append("Content-Type", contentType)
        headers.append("User-Agent", userAgent)
        headers.append("Accept-Encoding", "gzip,deflate")
        headers.append("x-amz-sns-message-type", type)
        headers.append("x-amz-sns-message-id", messageID)
        headers.append("x-amz-sns-topic-arn", topicArn)
        return headers
    }
}
