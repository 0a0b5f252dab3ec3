import HeraldCore

/// The AWS query protocol's flattened parameters (`Attributes.entry.1.key=…`,
/// `MessageAttributes.entry.1.Value.StringValue=…`) turned into the JSON shapes the AWS JSON
/// protocol uses for the same operation, so one parser (`ActionRequest`) reads both. Pure.
enum QueryParameters {
    static func json(_ parameters: [String: String]) -> JSONValue {
        var scalars: [(String, String)] = []
        var attributes: [Int: (key: String?, value: String?)] = [:]
        var messageAttributes: [Int: [String: String]] = [:]
        for (name, value) in parameters where name != "Action" && name != "Version" {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 4, parts[0] == "Attributes", parts[1] == "entry", let index = Int(parts[2]) {
                if parts[3] == "key" { attributes[index, default: (nil, nil)].key = value }
                if parts[3] == "value" { attributes[index, default: (nil, nil)].value = value }
            } else if parts.count >= 4, parts[0] == "MessageAttributes", parts[1] == "entry", let index = Int(parts[2]) {
                // `.Name`, `.Value.DataType`, `.Value.StringValue`, `.Value.BinaryValue`
                messageAttributes[index, default: [:]][parts[3...].joined(separator: ".")] = value
            } else {
                scalars.append((name, value))
            }
        }
        var members = scalars.sorted { $0.0 < $1.0 }.map { JSONValue.Member(key: $0.0, value: .string($0.1)) }
        if !attributes.isEmpty {
            let entries = attributes.sorted { $0.key < $1.key }.compactMap { _, entry -> JSONValue.Member? in
                guard let key = entry.key else { return nil }
                return JSONValue.Member(key: key, value: .string(entry.value ?? ""))
            }
            members.append(.init(key: "Attributes", value: .object(entries)))
        }
        if !messageAttributes.isEmpty {
            let entries = messageAttributes.sorted { $0.key < $1.key }.compactMap { _, fields -> JSONValue.Member? in
                guard let name = fields["Name"] else { return nil }
                var value: [JSONValue.Member] = []
                for (field, key) in [("Value.DataType", "DataType"), ("Value.StringValue", "StringValue"), ("Value.BinaryValue", "BinaryValue")] {
                    if let text = fields[field] { value.append(.init(key: key, value: .string(text))) }
                }
                return JSONValue.Member(key: name, value: .object(value))
            }
            members.append(.init(key: "MessageAttributes", value: .object(entries)))
        }
        return .object(members)
    }
}
