/// A scalar a filter looks at, after a message has been reduced to (path, value) pairs:
/// attribute scope — String → `.string`, Number → `.number`, String.Array → its elements,
/// Binary → nothing; body scope — every JSON leaf, arrays flattened into their parent path.
public enum FilterValue: Sendable, Hashable {
    case string(String)
    case number(Double)
    case boolean(Bool)
    case null
}

/// A message reduced to what filtering sees.
public struct FilterInput: Sendable {
    public var fields: [(path: String, value: FilterValue)]
    /// SNS: `{"exists": false}` never matches a message that has no attributes at all.
    public var isEmpty: Bool
    /// Body scope: the body was not a JSON object, so no body-scope policy matches.
    public var isMatchable: Bool

    public init(fields: [(path: String, value: FilterValue)], isEmpty: Bool, isMatchable: Bool = true) {
        self.fields = fields
        self.isEmpty = isEmpty
        self.isMatchable = isMatchable
    }
}

/// SNS compares numbers to a fixed precision: values that agree to 6 decimal places are equal (old
/// Event Ruler's `ComparableNumber`, which SNS's recorded behaviour and moto follow; the SNS docs
/// promise 5). Every number a filter compares — policy values and message values alike — passes
/// through `canonical` first, so both evaluators see the same quantised value.
public enum FilterNumber {
    /// Rounds to the nearest multiple of 10⁻⁶. Magnitudes beyond 2⁵³·10⁻⁶ are already coarser than
    /// that and are returned unchanged (as are infinities). Monotonic, so ranges keep their order.
    @inlinable
    public static func canonical(_ x: Double) -> Double {
        let scaled = x * 1_000_000
        guard scaled.magnitude < 9_007_199_254_740_992 else { return x }
        return scaled.rounded(.toNearestOrAwayFromZero) / 1_000_000
    }
}

extension NumericRange {
    /// The range with its bounds rounded as `FilterNumber.canonical` rounds values.
    public var canonical: NumericRange {
        NumericRange(
            lower: lower.map(FilterNumber.canonical), lowerInclusive: lowerInclusive,
            upper: upper.map(FilterNumber.canonical), upperInclusive: upperInclusive)
    }
}
