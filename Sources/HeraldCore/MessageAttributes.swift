/// One SNS-style message attribute: a data type (`String`, `Number`, `Binary`, `String.Array`, or a
/// custom label after a dot such as `String.url`) and its value.
public struct MessageAttributeValue: Sendable, Hashable {
    public enum Payload: Sendable, Hashable {
        /// `StringValue`: used by the String and Number base types (and String.Array, as JSON text).
        case string(String)
        /// `BinaryValue`: used by the Binary base type.
        case binary([UInt8])
    }

    public var dataType: String
    public var payload: Payload

    public init(dataType: String, payload: Payload) {
        self.dataType = dataType
        self.payload = payload
    }

    public static func string(_ value: String) -> Self { .init(dataType: "String", payload: .string(value)) }
    public static func number(_ text: String) -> Self { .init(dataType: "Number", payload: .string(text)) }
    public static func stringArray(json: String) -> Self { .init(dataType: "String.Array", payload: .string(json)) }
    public static func binary(_ bytes: [UInt8]) -> Self { .init(dataType: "Binary", payload: .binary(bytes)) }

    /// How filtering treats the attribute: by its base type (the part before the first `.`), except
    /// that exactly `String.Array` is the array type.
    public var filterKind: FilterKind {
        if dataType == "String.Array" { return .stringArray }
        let base = dataType.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch base {
        case "String": return .string
        case "Number": return .number
        default: return .binary
        }
    }

    public enum FilterKind: Sendable { case string, number, stringArray, binary }

    /// The value's text when it has one (String/Number/String.Array).
    public var stringValue: String? {
        if case .string(let s) = payload { return s }
        return nil
    }

    /// Bytes counted against the message size limit: UTF-8 of name, data type and value (SNS rule).
    public func sizeInBytes(name: String) -> Int {
        let valueBytes: Int
        switch payload {
        case .string(let s): valueBytes = s.utf8.count
        case .binary(let b): valueBytes = b.count
        }
        return name.utf8.count + dataType.utf8.count + valueBytes
    }
}

/// A message's attributes by name. Names are unique and case-sensitive.
public typealias MessageAttributes = [String: MessageAttributeValue]
