/// An SNS HTTP/S retry policy (`healthyRetryPolicy` / `defaultHealthyRetryPolicy`, spec §5.2):
/// how many times a failed delivery is retried and how long each retry waits.
///
/// After the first failed attempt the retries run through four phases, in order: immediate
/// (`numNoDelayRetries`, 0 s each), pre-backoff (`numMinDelayRetries`, `minDelayTarget` each),
/// backoff (the rest, from `minDelayTarget` to `maxDelayTarget` along `backoffFunction`, see
/// `BackoffFunction`), post-backoff (`numMaxDelayRetries`, `maxDelayTarget` each).
///
/// Pure value: the delivery scheduler asks it for the nominal delay of a retry and adds jitter
/// (`DeliveryJitter`) itself. A policy made by `HTTPDeliveryPolicy.parse` is valid (ranges and the
/// 3,600 s total hold); a policy built in code is not checked, but no value makes these methods trap.
public struct HTTPRetryPolicy: Sendable, Hashable {
    /// Delay of the pre-backoff retries and the first backoff retry, in seconds (1 … maxDelayTarget).
    public var minDelayTarget: Int
    /// Delay of the last backoff retry and the post-backoff retries, in seconds (… 3,600).
    public var maxDelayTarget: Int
    /// Retries over all phases (0 … 100). The first attempt is not a retry.
    public var numRetries: Int
    public var numNoDelayRetries: Int
    public var numMinDelayRetries: Int
    public var numMaxDelayRetries: Int
    public var backoffFunction: BackoffFunction

    public init(
        minDelayTarget: Int, maxDelayTarget: Int, numRetries: Int,
        numNoDelayRetries: Int = 0, numMinDelayRetries: Int = 0, numMaxDelayRetries: Int = 0,
        backoffFunction: BackoffFunction = .linear
    ) {
        self.minDelayTarget = minDelayTarget
        self.maxDelayTarget = maxDelayTarget
        self.numRetries = numRetries
        self.numNoDelayRetries = numNoDelayRetries
        self.numMinDelayRetries = numMinDelayRetries
        self.numMaxDelayRetries = numMaxDelayRetries
        self.backoffFunction = backoffFunction
    }

    /// SNS's policy for an HTTP/S subscription without one: 3 retries, 20 s apart (spec §5.2 [VERIFIED]).
    public static let snsDefault = HTTPRetryPolicy(minDelayTarget: 20, maxDelayTarget: 20, numRetries: 3)

    /// SNS's hard limit on a whole schedule ("Total policy retry time cannot be greater than 3600 seconds").
    public static let maxTotalRetrySeconds = 3600
    /// SNS's limit on `maxDelayTarget`.
    public static let maxDelayTargetLimit = 3600
    /// SNS's limit on `numRetries`.
    public static let maxRetries = 100

    /// Retries of the backoff phase: numRetries minus the three other phases (never negative).
    public var numBackoffRetries: Int {
        let total = Swift.max(numRetries, 0)
        let others = [numNoDelayRetries, numMinDelayRetries, numMaxDelayRetries].map { Swift.min(Swift.max($0, 0), total) }
        return Swift.max(total - others[0] - others[1] - others[2], 0)
    }

    /// Nominal delay in seconds before retry `retry` (1-based: retry 1 follows the first failed
    /// attempt); nil once retries are exhausted (retry > numRetries), and for retry < 1. Phases in
    /// order: immediate (0 s), pre-backoff (minDelayTarget), backoff (min→max along the function),
    /// post-backoff (maxDelayTarget).
    public func delay(beforeRetry retry: Int) -> Int? {
        guard retry >= 1, retry <= numRetries else { return nil }
        var position = retry
        let immediate = Swift.max(numNoDelayRetries, 0)
        if position <= immediate { return 0 }
        position -= immediate
        let preBackoff = Swift.max(numMinDelayRetries, 0)
        if position <= preBackoff { return minDelayTarget }
        position -= preBackoff
        let backoff = numBackoffRetries
        if position <= backoff {
            return backoffFunction.delay(
                index: position - 1, count: backoff, minDelay: minDelayTarget, maxDelay: maxDelayTarget)
        }
        return maxDelayTarget
    }

    /// Every retry's nominal delay, in order (count == numRetries).
    public var schedule: [Int] {
        guard numRetries > 0 else { return [] }
        return (1...numRetries).compactMap { delay(beforeRetry: $0) }
    }

    /// The schedule's total nominal wait, in seconds (SNS's "total policy retry time").
    public var totalRetrySeconds: Int {
        schedule.reduce(0) { $0 &+ $1 }
    }
}
