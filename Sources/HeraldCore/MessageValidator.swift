/// Publish-side validation of a message body and its attributes, with Amazon SNS's checks, codes and
/// exact error texts (spec §3.3). Texts SNS never recorded are Herald's own and say so in
/// docs/PROTOCOL.md ("Publish validation").
///
/// Order of checks (the first failure is reported): empty body → attribute count → each attribute in
/// ascending name order (name, then data type, then value) → total size. Sorting makes the reported
/// error deterministic when several attributes are bad.
public struct MessageValidator: Sendable {
    public var limits: MessageLimits
    /// SNS's 2022 docs say attribute values with characters outside the Basic Multilingual Plane
    /// (emoji, which UTF-16 stores as surrogate pairs) are rejected. Off by default: it is only
    /// documented, never recorded, and rejecting emoji surprises users.
    public var rejectsSupplementaryCharacters: Bool

    public init(limits: MessageLimits = .sns, rejectsSupplementaryCharacters: Bool = false) {
        self.limits = limits
        self.rejectsSupplementaryCharacters = rejectsSupplementaryCharacters
    }

    /// Validates a whole publish. Throws the first problem found.
    public func validate(body: [UInt8], attributes: MessageAttributes) throws(HeraldError) {
        try validate(bodyByteCount: body.count, attributes: attributes)
    }

    /// Same as `validate(body:attributes:)` when only the body's size is at hand.
    public func validate(bodyByteCount: Int, attributes: MessageAttributes) throws(HeraldError) {
        if bodyByteCount == 0 {
            throw HeraldError(.invalidParameter, "Invalid parameter: Empty message")
        }
        if attributes.count > limits.maxAttributes {
            // SNS documents no count limit (SQS allows 10); the text mirrors SQS's.
            throw HeraldError(
                .invalidParameter,
                "Invalid parameter: MessageAttributes Reason: Number of message attributes [\(attributes.count)] exceeds the allowed maximum [\(limits.maxAttributes)]."
            )
        }
        var total = bodyByteCount
        if !attributes.isEmpty {
            // Every publish passes here: check in the dictionary's order first (no sorted copy of
            // the names). Only a message with a bad attribute takes the sorted pass, which reports
            // the first problem in name order (the same set of checks, so it finds one).
            var valid = true
            for (name, value) in attributes {
                do throws(HeraldError) {
                    try validateAttribute(name: name, value: value)
                } catch {
                    valid = false
                    break
                }
                total += value.sizeInBytes(name: name)
            }
            if !valid {
                total = bodyByteCount
                for name in attributes.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                    guard let value = attributes[name] else { continue }
                    try validateAttribute(name: name, value: value)
                    total += value.sizeInBytes(name: name)
                }
            }
        }
        if total > limits.maxMessageBytes {
            throw HeraldError(.invalidParameter, "Invalid parameter: Message too long")
        }
    }

    /// Validates one attribute: name, data type, then value.
    public func validateAttribute(name: String, value: MessageAttributeValue) throws(HeraldError) {
        try validateName(name)
        let base = try validateDataType(value.dataType, attributeName: name)
        try validateValue(value, base: base, attributeName: name)
    }

    /// Attribute-name rules: `A-Z a-z 0-9 _ - .`, no leading/trailing `.`, no `..`, no `AWS.` or
    /// `Amazon.` prefix in any casing, at most `limits.maxAttributeNameLength` characters.
    public func validateName(_ name: String) throws(HeraldError) {
        if Self.isPlainName(name.utf8, maxLength: limits.maxAttributeNameLength) { return }
        try checkName(name)
    }

    /// Every rule of `validateName`, one by one (the first broken one is reported).
    func checkName(_ name: String) throws(HeraldError) {
        let utf8 = name.utf8
        if utf8.isEmpty {
            throw HeraldError(.parameterValueInvalid, "Message attribute name can not be empty.")
        }
        if name.unicodeScalars.count > limits.maxAttributeNameLength {
            throw HeraldError(.parameterValueInvalid, "Length of message attribute name must be less than 256 bytes.")
        }
        for scalar in name.unicodeScalars {
            let v = scalar.value
            let allowed = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
                || v == 0x5F || v == 0x2D || v == 0x2E
            if !allowed {
                throw HeraldError(
                    .parameterValueInvalid,
                    "Invalid non-alphanumeric character '#x\(String(v, radix: 16, uppercase: true))' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots."
                )
            }
        }
        if utf8.first == UInt8(ascii: ".") {
            throw HeraldError(.parameterValueInvalid, "Invalid message attribute name starting with character '.' was found.")
        }
        if utf8.last == UInt8(ascii: ".") {
            throw HeraldError(.parameterValueInvalid, "Invalid message attribute name ending with character '.' was found.")
        }
        var previousWasDot = false
        for byte in utf8 {
            let isDot = byte == UInt8(ascii: ".")
            if isDot && previousWasDot {
                throw HeraldError(.parameterValueInvalid, "Message attribute name can not have successive '.' character.")
            }
            previousWasDot = isDot
        }
        for reserved in ["aws.", "amazon."] where Self.hasCaseInsensitivePrefix(utf8, reserved) {
            let shown = reserved == "aws." ? "AWS." : "Amazon."
            throw HeraldError(
                .parameterValueInvalid,
                "Message attribute name can not start with the reserved prefix '\(shown)' (in any casing): \(name)"
            )
        }
    }

    /// The data type's base, as SNS classifies it.
    public enum BaseType: String, Sendable { case string = "String", number = "Number", binary = "Binary" }

    /// Data-type rules: `String`, `Number` or `Binary`, optionally followed by `.` and a non-empty custom
    /// label (`String.Array` is such a label). Case-sensitive, at most `limits.maxAttributeTypeLength` bytes.
    @discardableResult
    public func validateDataType(_ dataType: String, attributeName name: String) throws(HeraldError) -> BaseType {
        if dataType.isEmpty {
            throw HeraldError(
                .validationError,
                "1 validation error detected: Value null at 'messageAttributes.\(name).member.dataType' failed to satisfy constraint: Member must not be null"
            )
        }
        if dataType.utf8.count > limits.maxAttributeTypeLength {
            throw HeraldError(.parameterValueInvalid, "Length of message attribute type must be less than 256 bytes.")
        }
        for base in [BaseType.string, .number, .binary] {
            let prefix = base.rawValue.utf8
            let type = dataType.utf8
            guard type.starts(with: prefix) else { continue }
            let rest = type.dropFirst(prefix.count)
            if rest.isEmpty { return base }
            // A custom label needs a dot and at least one character after it ("String." is rejected).
            if rest.first == UInt8(ascii: "."), rest.count > 1 { return base }
            break
        }
        throw HeraldError(
            .parameterValueInvalid,
            "The message attribute '\(name)' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
        )
    }

    /// Value rules: String/Number types carry text, Binary types carry bytes, never empty. Number text
    /// must be a decimal number within ±10^9 (see `NumberAttribute`). `String.Array` text must be a
    /// JSON array.
    public func validateValue(_ value: MessageAttributeValue, base: BaseType, attributeName name: String) throws(HeraldError) {
        switch (base, value.payload) {
        case (.string, .string(let text)), (.number, .string(let text)):
            if text.isEmpty {
                throw HeraldError(
                    .parameterValueInvalid,
                    "The message attribute '\(name)' must contain non-empty message attribute value for message attribute type '\(base.rawValue)'."
                )
            }
            if rejectsSupplementaryCharacters, text.unicodeScalars.contains(where: { $0.value > 0xFFFF }) {
                throw HeraldError(.parameterValueInvalid, "Invalid attribute value was passed in for message attribute")
            }
            if base == .number {
                try NumberAttribute.validate(text, attributeName: name)
            } else if value.dataType == "String.Array" {
                try Self.validateStringArray(text, attributeName: name)
            }
        case (.binary, .binary(let bytes)):
            if bytes.isEmpty {
                throw HeraldError(
                    .parameterValueInvalid,
                    "The message attribute '\(name)' must contain non-empty message attribute value for message attribute type 'Binary'."
                )
            }
        case (.string, .binary), (.number, .binary):
            throw HeraldError(
                .parameterValueInvalid,
                "The message attribute '\(name)' with type '\(base.rawValue)' must use field 'String'."
            )
        case (.binary, .string):
            throw HeraldError(.parameterValueInvalid, "The message attribute '\(name)' with type 'Binary' must use field 'Binary'.")
        }
    }

    /// `String.Array` values must parse as a JSON array (elements of any JSON type; SNS discourages
    /// objects but filtering simply does not match inside them). Herald's decision: SNS does not
    /// document publish-time checking, but a value that is not an array can never match an array
    /// filter, so rejecting it early tells the publisher instead of silently dropping deliveries.
    static func validateStringArray(_ text: String, attributeName name: String) throws(HeraldError) {
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(Array(text.utf8), limits: JSONParser.Limits(maxDepth: 32))
        } catch {
            throw HeraldError(
                .parameterValueInvalid,
                "The message attribute '\(name)' with type 'String.Array' must be a JSON array: \(error.message)."
            )
        }
        guard case .array = parsed else {
            throw HeraldError(
                .parameterValueInvalid,
                "The message attribute '\(name)' with type 'String.Array' must be a JSON array."
            )
        }
    }

    /// One pass over the bytes for the common name: 1…`maxLength` allowed ASCII characters, no dot
    /// at either end or twice in a row, and not starting with `a`/`A` (so neither reserved prefix
    /// can apply). Such a name passes every rule of `validateName`; any other takes the full checks
    /// (which give the error).
    static func isPlainName(_ utf8: String.UTF8View, maxLength: Int) -> Bool {
        var count = 0
        var previous: UInt8 = UInt8(ascii: ".")  // a leading dot fails like a doubled one
        for byte in utf8 {
            let allowed = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2D || byte == 0x2E
            if !allowed || (byte == UInt8(ascii: ".") && previous == UInt8(ascii: ".")) { return false }
            if count == 0 && (byte == UInt8(ascii: "a") || byte == UInt8(ascii: "A")) { return false }
            previous = byte
            count += 1
        }
        return count > 0 && count <= maxLength && previous != UInt8(ascii: ".")
    }

    static func hasCaseInsensitivePrefix(_ utf8: String.UTF8View, _ lowerPrefix: String) -> Bool {
        var iterator = utf8.makeIterator()
        for expected in lowerPrefix.utf8 {
            guard let byte = iterator.next() else { return false }
            let lowered = (byte >= 0x41 && byte <= 0x5A) ? byte + 0x20 : byte
            if lowered != expected { return false }
        }
        return true
    }
}
