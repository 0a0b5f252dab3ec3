/// SNS Publish's `MessageStructure=json` (spec §3.3): the Message is a JSON object whose string
/// members give each protocol its own text, `default` for every protocol without one. Herald keeps
/// the texts of the protocols it delivers to (`sqs`, `http`, `https`); other keys are ignored, as
/// are members whose value is not a string (as SNS does). Stream subscribers get `default`.
///
/// Callers: the SNS API's Publish and PublishBatch. The publish path carries the result with the
/// message (`Message.protocolBodies`); the queue fan-out picks each target's text. Pure.
public struct ProtocolBodies: Sendable, Hashable {
    /// The `default` text.
    public var defaultBody: [UInt8]
    /// Protocol name (`sqs`, `http`, `https`) → its own text, only for those the message names.
    public var overrides: [String: [UInt8]]

    /// The protocols whose keys Herald reads.
    public static let protocols: Set<String> = ["sqs", "http", "https"]

    public init(defaultBody: [UInt8], overrides: [String: [UInt8]] = [:]) {
        self.defaultBody = defaultBody
        self.overrides = overrides
    }

    /// The text a subscription of `protocolName` receives.
    public func body(for protocolName: String) -> [UInt8] { overrides[protocolName] ?? defaultBody }

    /// SNS's texts for a message that is not such an object.
    public static let failedToParse = "Invalid parameter: Message Structure - JSON message body failed to parse"
    public static let noDefaultEntry = "Invalid parameter: Message Structure - No default entry in JSON message body"

    /// Reads a `MessageStructure=json` message; `InvalidParameter` with SNS's text when it is not
    /// JSON, or has no string `default` member.
    public static func parse(message: String) throws(HeraldError) -> ProtocolBodies {
        let json: JSONValue
        do {
            json = try JSONParser.parse(message, limits: .init(maxDepth: 64))
        } catch {
            throw HeraldError(.invalidParameter, failedToParse)
        }
        guard case .object(let members) = json else { throw HeraldError(.invalidParameter, noDefaultEntry) }
        var defaultBody: [UInt8]?
        var overrides: [String: [UInt8]] = [:]
        for member in members {
            guard case .string(let text) = member.value else { continue }
            if member.key == "default" {
                defaultBody = Array(text.utf8)
            } else if protocols.contains(member.key) {
                overrides[member.key] = Array(text.utf8)
            }
        }
        guard let defaultBody else { throw HeraldError(.invalidParameter, noDefaultEntry) }
        return ProtocolBodies(defaultBody: defaultBody, overrides: overrides)
    }
}
