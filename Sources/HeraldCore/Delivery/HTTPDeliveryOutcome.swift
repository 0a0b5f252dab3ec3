/// How SNS treats an HTTP answer (spec §5.2): 2xx is success; every 5xx and 429 is retried under the
/// retry policy; everything else is a permanent failure, not retried (to the dead-letter queue if
/// the subscription has one). 1xx and 3xx are undocumented: permanent, as the spec recommends
/// (Herald's HTTP client follows no redirects). Connection failures and timeouts have no status;
/// the delivery path treats them as `.retryable` itself.
public enum HTTPDeliveryOutcome: Sendable, Hashable {
    case delivered, retryable, permanent

    public init(status: Int) {
        switch status {
        case 200...299: self = .delivered
        case 429, 500...599: self = .retryable
        default: self = .permanent
        }
    }
}
