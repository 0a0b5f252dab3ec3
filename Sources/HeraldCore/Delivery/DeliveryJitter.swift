/// SNS adds jitter to every retry delay (spec §5.1), so many failed deliveries to one endpoint do
/// not come back at the same instant. Herald draws uniformly within ±10 % of the nominal delay, in
/// whole seconds: `seconds ± seconds/10` (integer division), so delays under 10 s keep their value,
/// 0 stays 0 and no result is negative. Deterministic given the generator (tests seed `SplitMix64`).
public enum DeliveryJitter {
    /// The spread as a divisor of the delay: 10 means ±10 %.
    public static let divisor = 10

    public static func apply(_ seconds: Int, using random: inout some RandomNumberGenerator) -> Int {
        guard seconds > 0 else { return 0 }
        let spread = seconds / divisor
        guard spread > 0 else { return seconds }
        // seconds ≥ 10·spread, so neither end can overflow or go below 0.
        return Int.random(in: (seconds - spread)...(seconds + Swift.min(spread, Int.max - seconds)), using: &random)
    }
}
