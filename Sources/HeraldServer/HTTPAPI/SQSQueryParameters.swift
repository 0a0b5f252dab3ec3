import HeraldCore

/// The legacy SQS query protocol's flattened parameters (spec/aws-api.md §2.2: `Attribute.1.Name`,
/// `Tag.1.Key`, `AttributeName.1`, `TagKey.1`, `MessageAttribute.1.Value.StringValue`,
/// `SendMessageBatchRequestEntry.1.Id`…) turned into the AWS JSON 1.0 request of the same
/// operation, so `QueueAPI` — the one implementation of every SQS operation — reads both.
/// SNS's non-flattened forms are `QueryParameters`' job. Pure.
enum SQSQueryParameters {
    /// How the members of one flattened list are read.
    private enum Shape {
        /// `X.N=value` → `[value]`.
        case strings
        /// `X.N.<Name>=k&X.N.Value=v` → `{k: v}` (queue attributes `Name`, tags `Key`).
        case stringMap(keyField: String)
        /// `X.N.Name=k&X.N.Value.DataType=…&X.N.Value.StringValue|BinaryValue=…` → `{k: {DataType, …}}`.
        case messageAttributes
        /// `X.N.<member>=…` (members themselves flattened) → `[{member: …}]`.
        case entries
    }

    /// Flattened location name → (JSON member name, shape).
    private static let flattened: [String: (member: String, shape: Shape)] = [
        "Attribute": ("Attributes", .stringMap(keyField: "Name")),
        "Tag": ("Tags", .stringMap(keyField: "Key")),
        "AttributeName": ("AttributeNames", .strings),
        "MessageAttributeName": ("MessageAttributeNames", .strings),
        "MessageSystemAttributeName": ("MessageSystemAttributeNames", .strings),
        "TagKey": ("TagKeys", .strings),
        "MessageAttribute": ("MessageAttributes", .messageAttributes),
        "MessageSystemAttribute": ("MessageSystemAttributes", .messageAttributes),
        "SendMessageBatchRequestEntry": ("Entries", .entries),
        "DeleteMessageBatchRequestEntry": ("Entries", .entries),
        "ChangeMessageVisibilityBatchRequestEntry": ("Entries", .entries),
    ]

    private typealias Field = (path: [String], value: String)

    /// The JSON request for `parameters` (the decoded form and query string). `path` is the
    /// request path: older SDKs POST to the queue URL's path `/<account>/<queue>` and may leave
    /// `QueueUrl` out, so the path stands in for it then. Malformed flattened names are
    /// `InvalidParameterValue` with the name in the text.
    static func json(_ parameters: [String: String], path: Substring = "/") throws(HeraldError) -> JSONValue {
        var fields: [Field] = []
        for (name, value) in parameters where name != "Action" && name != "Version" && !name.hasPrefix("X-Amz-") {
            fields.append((name.split(separator: ".", omittingEmptySubsequences: false).map(String.init), value))
        }
        if parameters["QueueUrl"] == nil, queueName(path: path) != nil { fields.append((["QueueUrl"], String(path))) }
        return try object(fields, prefix: "")
    }

    /// The queue a query request's path names (`/<12-digit account>/<queue>`), or nil.
    static func queueName(path: Substring) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].isEmpty, parts[1].count == 12, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), !parts[2].isEmpty else { return nil }
        return String(parts[2])
    }

    /// One level of a request: scalars by name, flattened lists by their location name.
    private static func object(_ fields: [Field], prefix: String) throws(HeraldError) -> JSONValue {
        var scalars: [(String, String)] = []
        var lists: [String: [Int: [Field]]] = [:]
        for field in fields {
            let name = field.path[0]
            if field.path.count == 1 {
                scalars.append((name, field.value))
                continue
            }
            guard flattened[name] != nil, let index = Int(field.path[1]), index >= 1 else { throw unknown(prefix, field.path) }
            lists[name, default: [:]][index, default: []].append((Array(field.path.dropFirst(2)), field.value))
        }
        var members = scalars.sorted { $0.0 < $1.0 }.map { JSONValue.Member(key: $0.0, value: .string($0.1)) }
        var filled: [String: String] = [:]
        for (name, items) in lists.sorted(by: { $0.key < $1.key }) {
            guard let (member, shape) = flattened[name] else { continue }
            // Three batch entry names share `Entries`: a request has one kind of entry.
            if let other = filled.updateValue(name, forKey: member) {
                throw HeraldError(.invalidParameterValue, "The parameters \(prefix)\(other).N and \(prefix)\(name).N cannot be in one request.")
            }
            let ordered = items.sorted { $0.key < $1.key }
            switch shape {
            case .strings:
                var values: [JSONValue] = []
                for (index, parts) in ordered {
                    guard parts.count == 1, parts[0].path.isEmpty else { throw unknown(prefix, [name, String(index)] + (parts.first?.path ?? [])) }
                    values.append(.string(parts[0].value))
                }
                members.append(.init(key: member, value: .array(values)))
            case .stringMap(let keyField):
                var map: [JSONValue.Member] = []
                for (index, parts) in ordered {
                    let entry = try flat(parts, allowed: [keyField, "Value"], prefix: "\(prefix)\(name).\(index).")
                    guard let key = entry[keyField] else { throw missing("\(prefix)\(name).\(index).\(keyField)") }
                    map.append(.init(key: key, value: .string(entry["Value"] ?? "")))
                }
                members.append(.init(key: member, value: .object(map)))
            case .messageAttributes:
                var map: [JSONValue.Member] = []
                for (index, parts) in ordered {
                    let here = "\(prefix)\(name).\(index)."
                    let entry = try flat(parts, allowed: ["Name", "Value.DataType", "Value.StringValue", "Value.BinaryValue"], prefix: here)
                    guard let key = entry["Name"] else { throw missing(here + "Name") }
                    var value: [JSONValue.Member] = []
                    for (field, jsonKey) in [("Value.DataType", "DataType"), ("Value.StringValue", "StringValue"), ("Value.BinaryValue", "BinaryValue")] {
                        if let text = entry[field] { value.append(.init(key: jsonKey, value: .string(text))) }
                    }
                    map.append(.init(key: key, value: .object(value)))
                }
                members.append(.init(key: member, value: .object(map)))
            case .entries:
                var entries: [JSONValue] = []
                for (index, parts) in ordered {
                    guard parts.allSatisfy({ !$0.path.isEmpty }) else { throw unknown(prefix, [name, String(index)]) }
                    entries.append(try object(parts, prefix: "\(prefix)\(name).\(index)."))
                }
                members.append(.init(key: member, value: .array(entries)))
            }
        }
        return .object(members)
    }

    /// The fields of one map entry by their dotted names, each one of `allowed`.
    private static func flat(_ parts: [Field], allowed: Set<String>, prefix: String) throws(HeraldError) -> [String: String] {
        var entry: [String: String] = [:]
        for part in parts {
            let name = part.path.joined(separator: ".")
            guard allowed.contains(name) else { throw HeraldError(.invalidParameterValue, "The parameter \(prefix)\(name) is not recognized.") }
            entry[name] = part.value
        }
        return entry
    }

    private static func unknown(_ prefix: String, _ path: [String]) -> HeraldError {
        HeraldError(.invalidParameterValue, "The parameter \(prefix)\(path.joined(separator: ".")) is not recognized.")
    }

    private static func missing(_ name: String) -> HeraldError {
        HeraldError(.missingParameter, "The request must contain the parameter \(name).")
    }
}
