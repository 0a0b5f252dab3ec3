import HeraldCore

/// The legacy SQS query protocol's XML answers (spec/aws-api.md §2.3, §2.5, §4.4), rendered from
/// the AWS JSON 1.0 answer `QueueAPI` gives: `<{Op}Response xmlns=…><{Op}Result>…</{Op}Result>
/// <ResponseMetadata>…`, with SQS's flattened lists (repeated `<QueueUrl>`, `<Message>`,
/// `<…ResultEntry>`, `<BatchResultErrorEntry>`) and maps (repeated `<Attribute><Name/><Value/>`,
/// `<Tag><Key/><Value/>`, `<MessageAttribute><Name/><Value>…</Value>`). Pure.
enum SQSQueryXML {
    static let namespace = "http://queue.amazonaws.com/doc/2012-11-05/"
    /// SQS's legacy text for a missing queue; the JSON protocol's is shorter (spec §2.5).
    static let nonExistentQueueText = "The specified queue does not exist for this wsdl version."

    /// Operations whose query model has no output shape: they answer only `<ResponseMetadata>`.
    static let actionsWithoutResult: Set<String> = [
        "DeleteQueue", "DeleteMessage", "ChangeMessageVisibility", "PurgeQueue", "SetQueueAttributes", "TagQueue", "UntagQueue",
        "AddPermission", "RemovePermission",
    ]

    /// The XML document answering `action` with QueueAPI's JSON `result`.
    static func response(action: String, result: JSONValue, requestID: String) -> String {
        var out = "<\(action)Response xmlns=\"\(namespace)\">"
        if !actionsWithoutResult.contains(action) {
            out += "<\(action)Result>"
            if case .object(let members) = result { render(members, action: action, into: &out) }
            out += "</\(action)Result>"
        }
        out += "<ResponseMetadata><RequestId>\(escape(requestID))</RequestId></ResponseMetadata></\(action)Response>"
        return out
    }

    /// SQS's query error document (`<Detail/>` included, as SQS sends it).
    static func error(code: String, message: String, serverFault: Bool, requestID: String) -> String {
        "<ErrorResponse xmlns=\"\(namespace)\"><Error><Type>\(serverFault ? "Receiver" : "Sender")</Type><Code>\(escape(code))</Code>"
            + "<Message>\(escape(message))</Message><Detail/></Error><RequestId>\(escape(requestID))</RequestId></ErrorResponse>"
    }

    /// The element each item of a JSON list becomes (flattened: repeated directly in the parent).
    static func itemName(list key: String, action: String) -> String {
        switch key {
        case "QueueUrls", "queueUrls": return "QueueUrl"
        case "Messages": return "Message"
        case "Successful": return "\(action)ResultEntry"
        case "Failed": return "BatchResultErrorEntry"
        default: return key
        }
    }

    private static func render(_ members: [JSONValue.Member], action: String, into out: inout String) {
        for member in members {
            let key = member.key
            switch member.value {
            case .null:
                continue
            case .string(let text), .number(let text):
                out += "<\(key)>\(escape(text))</\(key)>"
            case .bool(let flag):
                out += "<\(key)>\(flag)</\(key)>"
            case .array(let items):
                let item = itemName(list: key, action: action)
                for value in items {
                    out += "<\(item)>"
                    switch value {
                    case .object(let fields): render(fields, action: action, into: &out)
                    case .string(let text), .number(let text): out += escape(text)
                    case .bool(let flag): out += "\(flag)"
                    case .null, .array: break
                    }
                    out += "</\(item)>"
                }
            case .object(let entries):
                renderMap(key, entries, action: action, into: &out)
            }
        }
    }

    /// A JSON map as repeated entries: `Tags` → `<Tag><Key/><Value/>`, `Attributes` →
    /// `<Attribute><Name/><Value/>`, `MessageAttributes` → `<MessageAttribute><Name/><Value>…</Value>`.
    private static func renderMap(_ key: String, _ entries: [JSONValue.Member], action: String, into out: inout String) {
        let item = key.hasSuffix("s") ? String(key.dropLast()) : key
        let keyField = key == "Tags" ? "Key" : "Name"
        for entry in entries {
            out += "<\(item)><\(keyField)>\(escape(entry.key))</\(keyField)><Value>"
            switch entry.value {
            case .object(let fields): render(fields, action: action, into: &out)
            case .string(let text), .number(let text): out += escape(text)
            case .bool(let flag): out += "\(flag)"
            case .null, .array: break
            }
            out += "</Value></\(item)>"
        }
    }

    /// XML text escaping; a carriage return becomes `&#xD;` so that an XML parser's line-end
    /// normalisation cannot change a message body (and with it `MD5OfBody`).
    static func escape(_ text: String) -> String {
        let escaped = SNSQueryHandler.escape(text)
        guard escaped.unicodeScalars.contains("\r") else { return escaped }
        var out = String.UnicodeScalarView()
        for scalar in escaped.unicodeScalars {
            if scalar == "\r" { out.append(contentsOf: "&#xD;".unicodeScalars) } else { out.append(scalar) }
        }
        return String(out)
    }
}
