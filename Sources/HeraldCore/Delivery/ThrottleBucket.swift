/// The average-rate limiter behind `throttlePolicy.maxReceivesPerSecond`: a token bucket holding up
/// to `burst` deliveries and refilled at `ratePerSecond`. It caps the average, and lets a burst of
/// up to `burst` through after a quiet spell — what SNS promises ("an average … short bursts").
///
/// Pure: the caller passes monotonic nanoseconds (never reads a clock here). One bucket per
/// subscription, owned by whoever schedules that subscription's deliveries and used under its
/// confinement (a `mutating` value, not shared). Time that goes backwards counts as no time.
public struct ThrottleBucket: Sendable {
    /// One token, in the bucket's fixed-point units: refill adds `rate` units per nanosecond, so
    /// one token takes 1e9/rate ns, with no rounding drift.
    private static let unitsPerToken: UInt64 = 1_000_000_000

    public let ratePerSecond: Int
    public let burst: Int
    private var units: UInt64
    private var lastNanoseconds: UInt64?

    /// `ratePerSecond` below 1 counts as 1 (a parsed policy never has one). `burst` defaults to one
    /// second's worth (`ratePerSecond`), at least 1. The bucket starts full.
    public init(ratePerSecond: Int, burst: Int? = nil) {
        let rate = Swift.min(Swift.max(ratePerSecond, 1), 1_000_000_000)
        self.ratePerSecond = rate
        self.burst = Swift.min(Swift.max(burst ?? rate, 1), 1_000_000_000)
        units = UInt64(self.burst) * Self.unitsPerToken
    }

    private var capacity: UInt64 { UInt64(burst) * Self.unitsPerToken }

    /// 0 when a delivery may start now (and takes a token), otherwise how many nanoseconds until one can.
    public mutating func take(nowNanoseconds: UInt64) -> UInt64 {
        refill(to: nowNanoseconds)
        if units >= Self.unitsPerToken {
            units -= Self.unitsPerToken
            return 0
        }
        let missing = Self.unitsPerToken - units
        let rate = UInt64(ratePerSecond)
        return (missing + rate - 1) / rate
    }

    private mutating func refill(to now: UInt64) {
        defer { lastNanoseconds = Swift.max(now, lastNanoseconds ?? now) }
        guard let last = lastNanoseconds, now > last else { return }
        let (added, overflow) = (now - last).multipliedReportingOverflow(by: UInt64(ratePerSecond))
        units = overflow || added >= capacity - units ? capacity : units + added
    }
}
