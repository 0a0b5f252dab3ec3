import HeraldCore

/// The filter-policy layer's use of HeraldCore's JSON parser: SNS reports a JSON syntax error as
/// "failed to parse JSON. " + Jackson's message, with Jackson's location on a second line
/// (`FilterPolicyError.message(api:)`).
extension FilterPolicy {
    /// Parses policy text, a message body or a case file, mapping a syntax error to SNS's text
    /// (`FilterPolicyError.Code.invalidJSON`).
    public static func parseJSON(_ bytes: [UInt8], maxDepth: Int) throws(FilterPolicyError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes, limits: JSONParser.Limits(maxDepth: maxDepth))
        } catch {
            throw FilterPolicyError(json: error)
        }
    }

    public static func parseJSON(_ text: String, maxDepth: Int) throws(FilterPolicyError) -> JSONValue {
        try parseJSON(Array(text.utf8), maxDepth: maxDepth)
    }
}

extension FilterPolicyError {
    /// SNS's error for a policy that is not JSON: "failed to parse JSON. " + Jackson's message.
    public init(json error: JSONParseError) {
        self.init(
            .invalidJSON, "failed to parse JSON. " + error.message,
            location: SourceLocation(line: error.line, column: error.column))
    }
}
