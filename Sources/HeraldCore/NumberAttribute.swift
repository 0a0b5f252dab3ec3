/// The `Number` attribute type. SNS documents "a number from -10^9 to 10^9 with 5 decimal digits of
/// accuracy"; it records no publish-time error texts for it.
///
/// Herald's rule (docs/PROTOCOL.md, "Publish validation"):
/// - Syntax: optional `+`/`-`, digits with an optional fraction (`1`, `1.5`, `.5`, `5.`), and an
///   optional exponent (`1e3`). No spaces, no hex, no `Infinity`/`NaN`. At most 128 characters.
/// - Range: the value, read as a Double, must lie within [-1e9, 1e9] inclusive.
/// - Precision: more than 5 fraction digits are accepted and kept as published (the text is delivered
///   unchanged); filtering compares values as Double, which is exact to well beyond 5 decimals in
///   that range. Nothing is rounded or rejected for extra digits.
public enum NumberAttribute {
    public static let minimum: Double = -1_000_000_000
    public static let maximum: Double = 1_000_000_000
    public static let maxTextLength = 128

    /// The numeric value of `text` if it is a valid Number attribute value, otherwise nil.
    public static func value(of text: String) -> Double? {
        guard text.utf8.count <= maxTextLength, hasNumberSyntax(text.utf8) else { return nil }
        guard let value = Double(text), value.isFinite, value >= minimum, value <= maximum else { return nil }
        return value
    }

    static func validate(_ text: String, attributeName name: String) throws(HeraldError) {
        guard text.utf8.count <= maxTextLength, hasNumberSyntax(text.utf8), let value = Double(text), value.isFinite else {
            throw HeraldError(.parameterValueInvalid, "Could not cast message attribute '\(name)' value to number.")
        }
        guard value >= minimum, value <= maximum else {
            throw HeraldError(
                .parameterValueInvalid,
                "Value \(text) for message attribute '\(name)' of type 'Number' is out of range. Number values must be between -1000000000 and 1000000000."
            )
        }
    }

    /// Decimal number grammar: `[+-]? (digits ('.' digits?)? | '.' digits) ([eE] [+-]? digits)?`.
    static func hasNumberSyntax(_ utf8: String.UTF8View) -> Bool {
        var index = utf8.startIndex
        let end = utf8.endIndex
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        if index != end, utf8[index] == UInt8(ascii: "+") || utf8[index] == UInt8(ascii: "-") {
            index = utf8.index(after: index)
        }
        var mantissaDigits = 0
        while index != end, isDigit(utf8[index]) { mantissaDigits += 1; index = utf8.index(after: index) }
        if index != end, utf8[index] == UInt8(ascii: ".") {
            index = utf8.index(after: index)
            while index != end, isDigit(utf8[index]) { mantissaDigits += 1; index = utf8.index(after: index) }
        }
        guard mantissaDigits > 0 else { return false }
        if index != end, utf8[index] == UInt8(ascii: "e") || utf8[index] == UInt8(ascii: "E") {
            index = utf8.index(after: index)
            if index != end, utf8[index] == UInt8(ascii: "+") || utf8[index] == UInt8(ascii: "-") {
                index = utf8.index(after: index)
            }
            var exponentDigits = 0
            while index != end, isDigit(utf8[index]) { exponentDigits += 1; index = utf8.index(after: index) }
            guard exponentDigits > 0 else { return false }
        }
        return index == end
    }
}
