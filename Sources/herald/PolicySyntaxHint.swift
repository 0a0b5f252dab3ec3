import FilterPolicy

/// One plain line under SNS's JSON-syntax error (which is kept as SNS words it): where the error
/// is and what the parser expected there, e.g.
/// `line 2, column 9: expected a colon to separate field name and value`.
enum PolicySyntaxHint {
    static func line(for error: FilterPolicyError) -> String? {
        guard error.code == .invalidJSON, let location = error.location else { return nil }
        return "line \(location.line), column \(location.column): \(expectation(error.reason))"
    }

    /// The parser's "was expecting …" / "expected …" clause, or its whole reason without SNS's
    /// "failed to parse JSON." prefix when it has none.
    static func expectation(_ reason: String) -> String {
        var text = Substring(reason)
        if let prefix = text.range(of: "failed to parse JSON. ") { text = text[prefix.upperBound...] }
        for marker in ["was expecting ", " expected "] {
            if let found = text.range(of: marker) {
                var clause = text[found.upperBound...]
                // Jackson's "(for Object starting at …)" and "(start marker at …)" repeat the location.
                if let detail = clause.range(of: " (for ") ?? clause.range(of: " (start marker") { clause = clause[..<detail.lowerBound] }
                return "expected " + clause
            }
        }
        return String(text)
    }
}
