/// Limits that bound what a client can make the broker hold. SNS's values are the defaults;
/// configuration may raise them.
public struct MessageLimits: Sendable, Hashable {
    /// Body plus the UTF-8 bytes of every attribute name, data type and value (SNS: 262,144).
    public var maxMessageBytes: Int = 262_144
    /// Attributes per message (SNS forwards at most 10 to raw SQS deliveries).
    public var maxAttributes: Int = 10
    /// Attribute names: SNS allows up to 256 characters.
    public var maxAttributeNameLength: Int = 256
    /// Attribute data type labels: at most 256 bytes.
    public var maxAttributeTypeLength: Int = 256

    public init() {}
    public static let sns = MessageLimits()
}

/// Limits of the filter-policy language. SNS's values are the defaults.
public struct FilterPolicyLimits: Sendable, Hashable {
    /// Top-level keys per policy (SNS: 5).
    public var maxKeys: Int = 5
    /// Combinations, counted as SNS counts them (SNS: 150).
    public var maxCombinations: Int = 150
    /// Policy text size in bytes (SNS: 256 KB).
    public var maxPolicyBytes: Int = 256 * 1024
    /// Nesting depth of the policy JSON; SNS documents none, this bounds parser work.
    public var maxNestingDepth: Int = 64

    public init() {}
    public static let sns = FilterPolicyLimits()
}
