/// The four backoff curves of an SNS HTTP/S retry policy: how the delays of the backoff phase grow
/// from `minDelayTarget` to `maxDelayTarget` (spec §5.2).
///
/// AWS documents only a picture, not formulas (spec Appendix B.9), so these are Herald's. With `i`
/// the retry's index in the backoff phase (0 … n−1), `t = i/(n−1)`, and the delays in seconds:
///
/// - `linear`:      L(t) = min + (max−min)·t                 (equal steps)
/// - `exponential`: E(t) = min·(max/min)^t                   (a constant ratio between retries)
/// - `arithmetic`:  (L(t) + E(t)) / 2                         (the arithmetic mean of the two)
/// - `geometric`:   √(L(t)·E(t))                              (the geometric mean of the two)
///
/// E is convex and L a straight line between the same end points, so E ≤ L everywhere; the
/// arithmetic mean lies between them and the geometric mean between the arithmetic mean and E
/// (AM ≥ GM). So for every policy, retry by retry: linear ≥ arithmetic ≥ geometric ≥ exponential,
/// all start at `min` and end at `max` — the docs' ordering (the two middle curves lie between
/// linear and exponential), named after the mean each one takes.
/// Each delay is rounded to the nearest whole second (halves up); a phase of one retry waits `min`.
///
/// Pure arithmetic on `Double`: no Foundation. The power `(max/min)^t` is computed as
/// `root^i` with `root = (max/min)^(1/(n−1))` found by bisection, since the standard library has no `pow`.
public enum BackoffFunction: String, Sendable, Hashable, CaseIterable {
    case linear, arithmetic, geometric, exponential

    /// Largest delay the curves compute with; inputs beyond it are clamped (a validated policy's
    /// delays are at most 3,600 s, far below), so no conversion can trap.
    static let maxComputedDelay = 1_000_000_000

    /// Nominal delay of backoff retry `index` (0-based) in a backoff phase of `count` retries
    /// running from `minDelay` to `maxDelay` seconds. Callers pass 0 ≤ index < count; other
    /// values are clamped, never trapped on.
    public func delay(index: Int, count: Int, minDelay: Int, maxDelay: Int) -> Int {
        let low = Swift.min(Swift.max(minDelay, 0), Self.maxComputedDelay)
        let high = Swift.max(low, Swift.min(maxDelay, Self.maxComputedDelay))
        guard count > 1, high > low else { return low }
        let steps = count - 1
        let i = Swift.min(Swift.max(index, 0), steps)
        if i == 0 { return low }
        if i == steps { return high }
        let linear = Double(low) + Double(high - low) * Double(i) / Double(steps)
        let value: Double
        switch self {
        case .linear:
            value = linear
        case .exponential:
            value = Self.exponential(low: low, high: high, index: i, steps: steps)
        case .arithmetic:
            value = (linear + Self.exponential(low: low, high: high, index: i, steps: steps)) / 2
        case .geometric:
            value = (linear * Self.exponential(low: low, high: high, index: i, steps: steps)).squareRoot()
        }
        // Rounding error cannot carry a value outside [low, high] by a whole second, but clamp anyway.
        let clamped = Swift.min(Swift.max(value.rounded(.toNearestOrAwayFromZero), Double(low)), Double(high))
        return Int(clamped)
    }

    /// min·(max/min)^(i/steps). A zero minimum has no ratio: the curve then rises linearly.
    private static func exponential(low: Int, high: Int, index: Int, steps: Int) -> Double {
        guard low > 0 else { return Double(low) + Double(high - low) * Double(index) / Double(steps) }
        let root = nthRoot(Double(high) / Double(low), steps)
        var value = Double(low)
        for _ in 0..<index { value *= root }
        return value
    }

    /// The y ≥ 1 with y^n == x, for x ≥ 1 and n ≥ 1, by bisection to the last bit.
    private static func nthRoot(_ x: Double, _ n: Int) -> Double {
        var low = 1.0
        var high = Swift.max(x, 1.0)
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if mid <= low || mid >= high { break }
            var power = 1.0
            for _ in 0..<n {
                power *= mid
                if power > x { break }
            }
            if power > x { high = mid } else { low = mid }
        }
        return low
    }
}
