/// Reads the JSON of one SNS attribute (`DeliveryPolicy`, `RedrivePolicy`) with the attribute's
/// error texts: every failure is `HeraldError(.invalidParameter, "Invalid parameter: <attribute>: <reason>")`.
/// Shared by `HTTPDeliveryPolicy`, `HTTPTopicDeliveryPolicy` and `SubscriptionRedrivePolicy`;
/// callers are the SNS front ends (SetSubscriptionAttributes, SetTopicAttributes, Subscribe) and
/// the configuration loader, on whatever thread they run (pure, no state).
///
/// Reasons AWS is recorded to give (spec §5.3, an AWS re:Post answer, SDK tests run against AWS):
/// "failed to parse JSON. <Jackson's message>" (RedrivePolicy; used for DeliveryPolicy too),
/// "Unexpected JSON member: <name>". The type reasons ("must be a JSON object", "must be an
/// integer", "must be a boolean", "must be a string") are Herald's own: no AWS text is recorded.
struct PolicyDocumentReader: Sendable {
    /// The attribute named in every error, e.g. "DeliveryPolicy".
    let attribute: String

    /// Documents are small; the bound keeps a hostile one cheap to refuse.
    static let limits = JSONParser.Limits(maxDepth: 16, maxBytes: 64 * 1024)

    func failure(_ reason: String) -> HeraldError {
        HeraldError(.invalidParameter, "Invalid parameter: \(attribute): \(reason)")
    }

    func parse(_ bytes: [UInt8]) throws(HeraldError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes, limits: Self.limits)
        } catch {
            throw failure("failed to parse JSON. " + error.message)
        }
    }

    /// The members of the object at `path` (nil: the whole document), last duplicate winning as in
    /// Jackson's tree model; a member outside `allowed` is SNS's "Unexpected JSON member".
    func members(of value: JSONValue, at path: String?, allowed: [String]) throws(HeraldError) -> [String: JSONValue] {
        guard case .object(let list) = value else {
            throw failure("\(path ?? "\(attribute) value") must be a JSON object")
        }
        var result: [String: JSONValue] = [:]
        for member in list {
            guard allowed.contains(member.key) else { throw failure("Unexpected JSON member: \(member.key)") }
            result[member.key] = member.value
        }
        return result
    }

    /// A nested object member; JSON `null` counts as absent (SNS itself reports unset policies as null).
    func object(_ members: [String: JSONValue], _ key: String) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    /// An integer member; nil when absent or null unless `required` ("<path>.<key> must be specified").
    /// Integer texts too large for `Int` saturate, so they fail the range checks with SNS's range text.
    func integer(_ members: [String: JSONValue], _ key: String, path: String, required: Bool) throws(HeraldError) -> Int? {
        guard let value = members[key], value != .null else {
            if required { throw failure("\(path).\(key) must be specified") }
            return nil
        }
        guard case .number(let text) = value, let number = Self.integer(text) else {
            throw failure("\(path).\(key) must be an integer")
        }
        return number
    }

    func bool(_ members: [String: JSONValue], _ key: String, path: String?) throws(HeraldError) -> Bool? {
        guard let value = members[key], value != .null else { return nil }
        guard case .bool(let flag) = value else { throw failure("\(Self.join(path, key)) must be a boolean") }
        return flag
    }

    func string(_ members: [String: JSONValue], _ key: String, path: String?) throws(HeraldError) -> String? {
        guard let value = members[key], value != .null else { return nil }
        guard case .string(let text) = value else { throw failure("\(Self.join(path, key)) must be a string") }
        return text
    }

    static func join(_ path: String?, _ key: String) -> String {
        path.map { "\($0).\(key)" } ?? key
    }

    /// The value of a JSON number text with no fraction or exponent; out-of-range texts saturate.
    static func integer(_ text: String) -> Int? {
        if let value = Int(text) { return value }
        let digits = text.utf8.drop { $0 == UInt8(ascii: "-") }
        guard !digits.isEmpty, digits.count == text.utf8.count - (text.hasPrefix("-") ? 1 : 0),
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return text.hasPrefix("-") ? Int.min : Int.max
    }
}
