// LogLineFormatter: one log event → one line of text, for `--log-format text|json`. Pure (the
// time comes in as milliseconds since 1970), so tests check exact lines.
import HeraldCore
import Logging

/// How `herald serve` writes its log lines.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-12-06T10:00:00.123Z warning TLS handshake failed event=handshake_failed peer=127.0.0.1:5123 reason="…"`
    case text
    /// One JSON object per line: `ts`, `level`, `msg`, then the metadata fields.
    case json
}

/// Formats one event as one line (no newline: the sink adds it). Never emits a raw CR or LF, so
/// a client-controlled string in a reason cannot forge a line. Metadata keys are sorted, so a
/// given event always reads the same.
public struct LogLineFormatter: Sendable {
    public var format: LogFormat

    public init(format: LogFormat) { self.format = format }

    public func line(
        millisecondsSince1970: Int64, level: Logger.Level, message: String, metadata: Logger.Metadata
    ) -> String {
        let ts = Self.timestamp(millisecondsSince1970: millisecondsSince1970)
        let fields = metadata.sorted { $0.key < $1.key }
        switch format {
        case .text:
            var line = "\(ts) \(level.rawValue) \(Self.escapingControls(message))"
            for (key, value) in fields {
                line += " \(Self.textKey(key))=\(Self.textValue(Self.text(of: value)))"
            }
            return line
        case .json:
            var members: [JSONValue.Member] = [
                .init(key: "ts", value: .string(ts)), .init(key: "level", value: .string(level.rawValue)),
                .init(key: "msg", value: .string(message)),
            ]
            let reserved: Set<String> = ["ts", "level", "msg"]
            for (key, value) in fields {
                // A metadata field never shadows the three fixed ones.
                members.append(.init(key: reserved.contains(key) ? "meta_\(key)" : key, value: Self.json(of: value)))
            }
            return JSONValue.object(members).text
        }
    }

    /// RFC 3339 UTC with milliseconds: `2026-12-06T10:00:00.123Z` (the same text as SNS's
    /// `Timestamp`, one implementation in HeraldCore).
    public static func timestamp(millisecondsSince1970 ms: Int64) -> String {
        SNSEnvelope.timestamp(milliseconds: ms)
    }

    private static func text(of value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let values): return "[" + values.map { text(of: $0) }.joined(separator: ",") + "]"
        case .dictionary(let d):
            return "{" + d.sorted { $0.key < $1.key }.map { "\($0.key)=\(text(of: $0.value))" }.joined(separator: ",") + "}"
        }
    }

    private static func json(of value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let c):
            // Counts stay numbers in JSON (`"suppressed":11`), so a log pipeline can sum them.
            if c is any BinaryInteger { return .number(c.description) }
            if let flag = c as? Bool { return .bool(flag) }
            return .string(c.description)
        case .array(let values): return .array(values.map { json(of: $0) })
        case .dictionary(let d): return .object(d.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: json(of: $0.value)) })
        }
    }

    /// A key is a bare word; anything else in it becomes `_` (keys are ours, this is a safety net).
    private static func textKey(_ key: String) -> String {
        key.isEmpty ? "_" : String(key.unicodeScalars.map { isBare($0) && $0 != "=" ? Character($0) : "_" })
    }

    /// Bare when it is non-empty and has no space, quote, `=`, backslash or control character;
    /// otherwise quoted with those escaped (logfmt style).
    private static func textValue(_ value: String) -> String {
        if !value.isEmpty && value.unicodeScalars.allSatisfy({ isBare($0) && $0 != "=" }) { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out += escapedControl(scalar) ?? String(scalar)
            }
        }
        return out + "\""
    }

    private static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { escapedControl($0) != nil }) else { return text }
        return text.unicodeScalars.map { escapedControl($0) ?? String($0) }.joined()
    }

    private static func isBare(_ scalar: Unicode.Scalar) -> Bool {
        scalar != " " && scalar != "\"" && scalar != "\\" && escapedControl(scalar) == nil
    }

    private static func escapedControl(_ scalar: Unicode.Scalar) -> String? {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            guard scalar.value < 0x20 || scalar.value == 0x7f || scalar.value == 0x2028 || scalar.value == 0x2029 else { return nil }
            let hex = String(scalar.value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }
}
