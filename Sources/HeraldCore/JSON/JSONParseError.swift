/// Why a text is not JSON, as Jackson (SNS's parser) words it, and where: `message` is Jackson's
/// message (e.g. "Unexpected character ('x' (code 120)): expected a value"), `offset` the byte
/// offset, `line` and `column` the 1-based position (column in bytes) Jackson reports after it.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var line: Int
    public var column: Int

    public init(message: String, offset: Int, line: Int, column: Int) {
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// Jackson's message and location, e.g. for a protocol error text.
    public var description: String { "\(message) at line \(line), column \(column)" }

    /// Jackson's location text with the source redacted, as SNS shows it:
    /// "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]".
    public static func jacksonLocation(line: Int, column: Int) -> String {
        "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: \(line), column: \(column)]"
    }
}
