/// The typed, validated form of an SNS filter policy. Produced by the parser (`FilterPolicy.parse`),
/// consumed by `ReferenceEvaluator` and `PolicyMatcherBuilder`. Values only: no behaviour beyond
/// structural helpers.

/// Which part of a message a policy looks at (SNS `FilterPolicyScope`).
public enum FilterPolicyScope: String, Sendable, Hashable, CaseIterable {
    case messageAttributes = "MessageAttributes"
    case messageBody = "MessageBody"
}

/// A validated filter policy.
public struct FilterPolicy: Sendable, Hashable {
    public var scope: FilterPolicyScope
    /// The top-level conjunction. Under MessageBody scope nested objects are already flattened into
    /// dotted paths, and `$or` groups carry full paths too.
    public var root: PolicyConjunction

    public init(scope: FilterPolicyScope, root: PolicyConjunction) {
        self.scope = scope
        self.root = root
    }

    /// The policy in disjunctive normal form: each branch is a list of key conditions that must all
    /// hold. A message matches when at least one branch holds. (`$or` groups expand by product.)
    public var branches: [[KeyCondition]] { root.branches }
}

/// All `keys` must hold, and for every `$or` group one of its alternatives must hold.
public struct PolicyConjunction: Sendable, Hashable {
    public var keys: [KeyCondition]
    public var orGroups: [[PolicyConjunction]]

    public init(keys: [KeyCondition], orGroups: [[PolicyConjunction]] = []) {
        self.keys = keys
        self.orGroups = orGroups
    }

    public var branches: [[KeyCondition]] {
        var result: [[KeyCondition]] = [keys]
        for group in orGroups {
            var next: [[KeyCondition]] = []
            for alternative in group {
                for tail in alternative.branches {
                    for head in result { next.append(head + tail) }
                }
            }
            result = next
        }
        return result
    }
}

/// One key of a policy: the value at `path` must satisfy at least one of `conditions`.
public struct KeyCondition: Sendable, Hashable {
    /// Attribute name (MessageAttributes scope) or dotted body path (MessageBody scope): nesting and
    /// dots are equivalent in SNS, so `{"a":{"b":[…]}}` and `{"a.b":[…]}` both give `a.b`.
    public var path: String
    public var conditions: [Condition]

    public init(path: String, conditions: [Condition]) {
        self.path = path
        self.conditions = conditions
    }
}

/// One element of a key's condition array.
public enum Condition: Sendable, Hashable {
    /// `"value"`: the whole string, case-sensitively.
    case exactString(String)
    /// A bare JSON number: numeric equality.
    case exactNumber(Double)
    /// `true` / `false`: a JSON boolean (body scope).
    case boolean(Bool)
    /// `null`: a JSON null value (never an absent key).
    case null
    case prefix(String)
    case suffix(String)
    case equalsIgnoreCase(String)
    case anythingBut(AnythingBut)
    case numeric(NumericRange)
    case exists(Bool)
    case cidr(CIDRBlock)
}

/// The forms of `anything-but` SNS accepts.
public enum AnythingBut: Sendable, Hashable {
    /// `{"anything-but": "x"}` or `["x","y"]`: a string value equal to none of these.
    case strings([String])
    /// `{"anything-but": 1}` or `[1, 2]`: a numeric value equal to none of these.
    case numbers([Double])
    /// `{"anything-but": {"prefix": "x"}}`: a string value not starting with this.
    case prefix(String)
}

/// `numeric` operators. `=` is a closed range with equal bounds.
public struct NumericRange: Sendable, Hashable {
    public var lower: Double?
    public var lowerInclusive: Bool
    public var upper: Double?
    public var upperInclusive: Bool

    public init(lower: Double?, lowerInclusive: Bool, upper: Double?, upperInclusive: Bool) {
        self.lower = lower
        self.lowerInclusive = lowerInclusive
        self.upper = upper
        self.upperInclusive = upperInclusive
    }

    public static func equals(_ v: Double) -> NumericRange {
        NumericRange(lower: v, lowerInclusive: true, upper: v, upperInclusive: true)
    }

    public func contains(_ v: Double) -> Bool {
        if let lower {
            if lowerInclusive ? !(v >= lower) : !(v > lower) { return false }
        }
        if let upper {
            if upperInclusive ? !(v <= upper) : !(v < upper) { return false }
        }
        return true
    }
}

/// An IPv4 (4 bytes) or IPv6 (16 bytes) network with its prefix length.
public struct CIDRBlock: Sendable, Hashable {
    public var address: [UInt8]
    public var prefixLength: Int

    public init(address: [UInt8], prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Whether `ip` (4 or 16 bytes) lies inside this block.
    public func contains(_ ip: [UInt8]) -> Bool {
        guard ip.count == address.count else { return false }
        var bits = prefixLength
        var i = 0
        while bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if ip[i] & mask != address[i] & mask { return false }
            bits -= 8
            i += 1
        }
        return true
    }
}
