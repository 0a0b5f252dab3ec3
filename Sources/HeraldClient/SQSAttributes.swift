import HeraldCore

/// Message attributes in the SQS JSON protocol: `{"name":{"DataType":"String","StringValue":"x"}}`,
/// binary values as `"BinaryValue":"<base64>"`. Names are written sorted (deterministic bytes).
enum SQSAttributes {
    static func json(_ attributes: MessageAttributes) -> JSONValue {
        .object(attributes.keys.sorted().compactMap { name in
            guard let value = attributes[name] else { return nil }
            var members: [JSONValue.Member] = [.init(key: "DataType", value: .string(value.dataType))]
            switch value.payload {
            case .string(let text): members.append(.init(key: "StringValue", value: .string(text)))
            case .binary(let bytes): members.append(.init(key: "BinaryValue", value: .string(Base64.encode(bytes))))
            }
            return JSONValue.Member(key: name, value: .object(members))
        })
    }

    /// Reads a `MessageAttributes` object; nil or `null` is no attributes.
    static func parse(_ json: JSONValue?, context: String) throws(ClientError) -> MessageAttributes {
        guard let json, json != .null else { return [:] }
        guard case .object(let members) = json else { throw ResponseReader.invalid("\(context) must be an object") }
        var attributes: MessageAttributes = [:]
        for member in members {
            let where_ = "\(context).\(member.key)"
            let dataType = try ResponseReader.requiredString(member.value, "DataType", context: where_)
            if let text = try ResponseReader.optionalString(member.value, "StringValue", context: where_) {
                attributes[member.key] = MessageAttributeValue(dataType: dataType, payload: .string(text))
            } else if let encoded = try ResponseReader.optionalString(member.value, "BinaryValue", context: where_) {
                guard let bytes = Base64.decode(encoded) else { throw ResponseReader.invalid("\(where_).BinaryValue is not base64") }
                attributes[member.key] = MessageAttributeValue(dataType: dataType, payload: .binary(bytes))
            } else {
                throw ResponseReader.invalid("\(where_) has neither StringValue nor BinaryValue")
            }
        }
        return attributes
    }
}
