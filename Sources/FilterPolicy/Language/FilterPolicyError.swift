import HeraldCore

/// The SNS API call a policy arrived through: it decides the prefix of the error message.
public enum SNSAPI: String, Sendable, Hashable, CaseIterable {
    /// `Subscribe(Attributes={"FilterPolicy": …})`: "Invalid parameter: Attributes Reason: …".
    case subscribe = "Subscribe"
    /// `SetSubscriptionAttributes`: "Invalid parameter: …".
    case setSubscriptionAttributes = "SetSubscriptionAttributes"
}

/// The one error type of the FilterPolicy module: a rejected filter policy (or scope value), with
/// SNS's exact reason text.
public struct FilterPolicyError: Error, Sendable, Equatable {
    /// Stable, client-visible classification of the error.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The text is not valid JSON ("failed to parse JSON. …"), including the nesting-depth bound.
        case invalidJSON
        /// The JSON is not a valid policy (operator, shape or value errors: Event Ruler's texts).
        case invalidPolicy
        /// More top-level keys than `FilterPolicyLimits.maxKeys`.
        case tooManyKeys
        /// More combinations than `FilterPolicyLimits.maxCombinations`.
        case tooComplex
        /// A nested policy under MessageAttributes scope.
        case nestedPolicyNotSupported
        /// A `FilterPolicyScope` value other than MessageAttributes/MessageBody.
        case invalidScope
        /// The policy text is larger than `FilterPolicyLimits.maxPolicyBytes`.
        case policyTooLarge
        /// A conformance/test case file that does not follow the case format (`PolicyCase`).
        case invalidCase
    }

    /// A position in the policy text (1-based), reported for JSON syntax errors.
    public struct SourceLocation: Sendable, Hashable {
        public var line: Int
        public var column: Int

        public init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }
    }

    public var code: Code
    /// SNS's reason text: the part after "FilterPolicy: " (or after "Invalid parameter: " for the
    /// scope errors), first line only.
    public var reason: String
    public var location: SourceLocation?

    public init(_ code: Code, _ reason: String, location: SourceLocation? = nil) {
        self.code = code
        self.reason = reason
        self.location = location
    }

    /// The full message SNS returns for this error through `api`. The first line is exact; JSON
    /// syntax errors get Jackson's location suffix on a second line (2025–2026 format).
    public func message(api: SNSAPI) -> String {
        var text = "Invalid parameter: "
        if api == .subscribe { text += "Attributes Reason: " }
        switch code {
        case .nestedPolicyNotSupported: break
        case .invalidScope: text += "FilterPolicyScope: "
        default: text += "FilterPolicy: "
        }
        text += reason
        if let location {
            text += "\n at " + JSONParseError.jacksonLocation(line: location.line, column: location.column)
        }
        return text
    }
}

extension FilterPolicyError: CustomStringConvertible {
    public var description: String { message(api: .setSubscriptionAttributes) }
}

extension FilterPolicyScope {
    /// Parses a `FilterPolicyScope` attribute value exactly as SNS does (case-sensitive).
    public init(snsValue: String) throws(FilterPolicyError) {
        guard let scope = FilterPolicyScope(rawValue: snsValue) else {
            throw FilterPolicyError(
                .invalidScope,
                "Invalid value [\(snsValue)]. Please use either MessageBody or MessageAttributes")
        }
        self = scope
    }
}
