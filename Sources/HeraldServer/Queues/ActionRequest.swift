import HeraldBroker
import HeraldCore

/// Typed reads of an SQS JSON-protocol request body, with SQS's error texts. AWS SDKs send
/// integers as JSON numbers; people and older tools as strings: both are accepted.
struct ActionRequest {
    let json: JSONValue

    init(_ bytes: [UInt8]) throws(HeraldError) {
        guard !bytes.isEmpty else {
            json = .object([])
            return
        }
        do {
            json = try JSONParser.parse(bytes, limits: .init(maxDepth: 16))
        } catch {
            throw HeraldError(.invalidParameterValue, "The request body is not valid JSON: \(error)")
        }
        guard case .object = json else { throw HeraldError(.invalidParameterValue, "The request body must be a JSON object") }
    }

    init(json: JSONValue) { self.json = json }

    func string(_ key: String) throws(HeraldError) -> String? {
        switch json[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case .number(let text)?: return text
        case .bool(let flag)?: return flag ? "true" : "false"
        default: throw HeraldError(.invalidParameterValue, "Value for parameter \(key) is invalid. Reason: must be a string.")
        }
    }

    func requiredString(_ key: String) throws(HeraldError) -> String {
        guard let text = try string(key), !text.isEmpty else {
            throw HeraldError(.missingParameter, "The request must contain the parameter \(key).")
        }
        return text
    }

    func int(_ key: String) throws(HeraldError) -> Int? {
        guard let text = try string(key) else { return nil }
        guard let value = Int(text) else {
            throw HeraldError(.invalidParameterValue, "Value \(text) for parameter \(key) is invalid. Reason: must be an integer.")
        }
        return value
    }

    func bool(_ key: String) throws(HeraldError) -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw HeraldError(.invalidParameterValue, "Value \(text) for parameter \(key) is invalid. Reason: must be true or false.")
        }
    }

    func array(_ key: String) throws(HeraldError) -> [JSONValue]? {
        switch json[key] {
        case nil, .null?: return nil
        case .array(let items)?: return items
        default: throw HeraldError(.invalidParameterValue, "Value for parameter \(key) is invalid. Reason: must be a list.")
        }
    }

    /// A string-to-string map (`Attributes`).
    func stringMap(_ key: String) throws(HeraldError) -> [String: String] {
        switch json[key] {
        case nil, .null?: return [:]
        case .object(let members)?:
            var map: [String: String] = [:]
            for member in members {
                switch member.value {
                case .string(let text): map[member.key] = text
                case .number(let text): map[member.key] = text
                case .bool(let flag): map[member.key] = flag ? "true" : "false"
                default: throw HeraldError(.invalidParameterValue, "Value for attribute \(member.key) is invalid. Reason: must be a string.")
                }
            }
            return map
        default: throw HeraldError(.invalidParameterValue, "Value for parameter \(key) is invalid. Reason: must be a map.")
        }
    }

    /// The queue a request names: `QueueName`, or the last path component of `QueueUrl`.
    func queueName() throws(HeraldError) -> String {
        if let name = try string("QueueName"), !name.isEmpty {
            // Queues the server keeps for itself (durable subscriptions) are not for users.
            guard !name.contains("/") else { throw QueueManager.noSuchQueue }
            return name
        }
        if let url = try string("QueueUrl"), let last = url.split(separator: "/").last, !last.isEmpty { return String(last) }
        throw HeraldError(.missingParameter, "The request must contain the parameter QueueUrl.")
    }

    /// SQS `MessageAttributes`: name → {DataType, StringValue | BinaryValue (Base64)}.
    func messageAttributes(_ key: String = "MessageAttributes") throws(HeraldError) -> MessageAttributes {
        guard case .object(let members)? = json[key] else {
            if json[key] == nil || json[key] == .null { return [:] }
            throw HeraldError(.invalidParameterValue, "Value for parameter \(key) is invalid. Reason: must be a map.")
        }
        var attributes: MessageAttributes = [:]
        for member in members {
            let value = ActionRequest(json: member.value)
            guard let type = try value.string("DataType"), !type.isEmpty else {
                throw HeraldError(.invalidParameterValue, "The message attribute '\(member.key)' must contain non-empty message attribute type.")
            }
            let base = type.split(separator: ".", maxSplits: 1).first.map(String.init) ?? type
            switch base {
            case "String", "Number":
                guard let text = try value.string("StringValue"), !text.isEmpty else {
                    throw HeraldError(.invalidParameterValue, "Message (user) attribute '\(member.key)' must contain a non-empty value of type '\(base)'.")
                }
                attributes[member.key] = MessageAttributeValue(dataType: type, payload: .string(text))
            case "Binary":
                guard let text = try value.string("BinaryValue"), let bytes = Base64.decode(text), !bytes.isEmpty else {
                    throw HeraldError(.invalidParameterValue, "Message (user) attribute '\(member.key)' must contain a non-empty value of type 'Binary'.")
                }
                attributes[member.key] = MessageAttributeValue(dataType: type, payload: .binary(bytes))
            default:
                throw HeraldError(.invalidParameterValue, "The type of message (user) attribute '\(member.key)' is invalid. You must use only the following supported type prefixes: Binary, Number, String.")
            }
        }
        return attributes
    }
}

/// Building SQS JSON-protocol responses.
enum ActionResponse {
    static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(members.map { JSONValue.Member(key: $0.0, value: $0.1) })
    }

    static func strings(_ map: [String: String]) -> JSONValue {
        .object(map.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) })
    }

    static func attributes(_ attributes: MessageAttributes) -> JSONValue {
        .object(attributes.sorted { $0.key < $1.key }.map { name, value in
            let payload: (String, JSONValue)
            switch value.payload {
            case .string(let text): payload = ("StringValue", .string(text))
            case .binary(let bytes): payload = ("BinaryValue", .string(Base64.encode(bytes)))
            }
            return .init(key: name, value: object([("DataType", .string(value.dataType)), payload]))
        })
    }

    static func failure(id: String, _ error: HeraldError) -> JSONValue {
        object([("Id", .string(id)), ("Code", .string(error.code.rawValue)), ("Message", .string(error.message)), ("SenderFault", .bool(true))])
    }
}
