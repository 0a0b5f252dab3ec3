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
