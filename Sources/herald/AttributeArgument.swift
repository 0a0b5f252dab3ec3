import ArgumentParser
import FilterPolicy
import Foundation
import HeraldCore

/// `--attribute NAME=TYPE:VALUE`, e.g. `store=String:example`, `price=Number:12.5`,
/// `tags=String.Array:["a","b"]`, `blob=Binary:aGVsbG8=` (base64).
struct AttributeArgument: ExpressibleByArgument {
    var name: String
    var value: MessageAttributeValue

    init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), let colon = argument[equals...].firstIndex(of: ":") else { return nil }
        name = String(argument[..<equals])
        let type = String(argument[argument.index(after: equals)..<colon])
        let text = String(argument[argument.index(after: colon)...])
        guard !name.isEmpty, !type.isEmpty else { return nil }
        if type == "Binary" || type.hasPrefix("Binary.") {
            guard let bytes = Data(base64Encoded: text) else { return nil }
            value = MessageAttributeValue(dataType: type, payload: .binary(Array(bytes)))
        } else {
            value = MessageAttributeValue(dataType: type, payload: .string(text))
        }
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// JSON text for the CLI's output lines, with keys in the order given.
enum JSONText {
    static func string(_ s: String) -> String { JSONValue.quoted(s) }

    static func attributes(_ attributes: MessageAttributes) -> String {
        let members = attributes.keys.sorted().compactMap { name -> String? in
            guard let value = attributes[name] else { return nil }
            let text: String
            switch value.payload {
            case .string(let s): text = s
            case .binary(let b): text = Data(b).base64EncodedString()
            }
            return "\(string(name)):{\"Type\":\(string(value.dataType)),\"Value\":\(string(text))}"
        }
        return "{" + members.joined(separator: ",") + "}"
    }
}
