import HeraldCore

/// The AWS query protocol's flattened parameters (`Attributes.entry.1.key=…`,
/// `MessageAttributes.entry.1.Value.StringValue=…`, `PublishBatchRequestEntries.member.2.Message=…`)
/// turned into the JSON shapes the AWS JSON protocol uses for the same operation, so one parser
/// (`ActionRequest`) reads both. Pure.
enum QueryParameters {
    static func json(_ parameters: [String: String]) -> JSONValue {
        let fields = parameters.compactMap { name, value -> (path: [String], value: String)? in
            name == "Action" || name == "Version" ? nil : (name.split(separator: ".", omittingEmptySubsequences: false).map(String.init), value)
        }
        return object(fields)
    }

    /// One level: scalars, `X.entry.N.key/value` maps, `MessageAttributes.entry.N.…` attribute
    /// maps and `X.member.N.…` lists of objects (read recursively).
    private static func object(_ fields: [(path: [String], value: String)]) -> JSONValue {
        var scalars: [(String, String)] = []
        var maps: [String: [Int: [(path: [String], value: String)]]] = [:]
        var lists: [String: [Int: [(path: [String], value: String)]]] = [:]
        var scalarLists: [String: [Int: String]] = [:]
        for field in fields {
            let path = field.path
            if path.count >= 4, path[1] == "entry", let index = Int(path[2]) {
                maps[path[0], default: [:]][index, default: []].append((Array(path[3...]), field.value))
            } else if path.count >= 4, path[1] == "member", let index = Int(path[2]) {
                lists[path[0], default: [:]][index, default: []].append((Array(path[3...]), field.value))
            } else if path.count == 3, path[1] == "member", let index = Int(path[2]) {
                scalarLists[path[0], default: [:]][index] = field.value  // `TagKeys.member.1=k`
            } else if path.count == 1 {
                scalars.append((path[0], field.value))
            }
        }
        var members = scalars.sorted { $0.0 < $1.0 }.map { JSONValue.Member(key: $0.0, value: .string($0.1)) }
        for (name, entries) in maps.sorted(by: { $0.key < $1.key }) {
            let converted = entries.sorted { $0.key < $1.key }.compactMap { _, parts in entry(parts) }
            members.append(.init(key: name, value: .object(converted)))
        }
        for (name, items) in lists.sorted(by: { $0.key < $1.key }) {
            members.append(.init(key: name, value: .array(items.sorted { $0.key < $1.key }.map { object($0.value) })))
        }
        for (name, items) in scalarLists.sorted(by: { $0.key < $1.key }) {
            members.append(.init(key: name, value: .array(items.sorted { $0.key < $1.key }.map { .string($0.value) })))
        }
        return .object(members)
    }

    /// One map entry: `key`/`value` (attributes) or `Name`/`Value.…` (message attributes).
    private static func entry(_ parts: [(path: [String], value: String)]) -> JSONValue.Member? {
        var fields: [String: String] = [:]
        for part in parts { fields[part.path.joined(separator: ".")] = part.value }
        if let key = fields["key"] { return JSONValue.Member(key: key, value: .string(fields["value"] ?? "")) }
        guard let name = fields["Name"] else { return nil }
        var value: [JSONValue.Member] = []
        for (field, key) in [("Value.DataType", "DataType"), ("Value.StringValue", "StringValue"), ("Value.BinaryValue", "BinaryValue")] {
            if let text = fields[field] { value.append(.init(key: key, value: .string(text))) }
        }
        return JSONValue.Member(key: name, value: .object(value))
    }
}
