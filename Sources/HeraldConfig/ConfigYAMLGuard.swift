/// A pre-scan that refuses the one YAML shape Yams cannot compose in bounded time: an alias used
/// inside a mapping key. Yams checks keys for duplicates by hashing them, and hashing an alias of
/// an alias of … ("billion laughs") takes exponential time. Herald's keys are plain names, so
/// alias keys (`*a : v`) and complex keys (`? …`) are refused outright, before composing.
///
/// The scan is a token-start approximation of YAML: it skips comments and single-line quoted
/// scalars and only looks at `*`/`?` where a YAML node can begin (line start after indentation or
/// `- `, after `[ { ,` or after `: `), so `*` and `?` inside plain text are not mistaken for them.
enum ConfigYAMLGuard {
    struct Refusal {
        var line: Int
        var message: String
    }

    static func refusal(in text: String) -> Refusal? {
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if let message = refusal(inLine: Array(line.utf8)) { return Refusal(line: lineNumber, message: message) }
        }
        return nil
    }

    private static func refusal(inLine bytes: [UInt8]) -> String? {
        var index = 0
        var atNodeStart = true
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
                continue
            case UInt8(ascii: "#") where atNodeStart || (index > 0 && (bytes[index - 1] == UInt8(ascii: " ") || bytes[index - 1] == UInt8(ascii: "\t"))):
                return nil
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                guard atNodeStart else { break }
                index = endOfQuoted(bytes, from: index)
                atNodeStart = false
                continue
            case UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","):
                index += 1
                atNodeStart = true
                continue
            case UInt8(ascii: "-"), UInt8(ascii: ":"):
                // `- ` starts a sequence entry, `: ` a value: a node may begin after either.
                if index + 1 == bytes.count || bytes[index + 1] == UInt8(ascii: " ") || bytes[index + 1] == UInt8(ascii: "\t") {
                    index += 1
                    atNodeStart = true
                    continue
                }
            case UInt8(ascii: "?") where atNodeStart:
                if index + 1 == bytes.count || bytes[index + 1] == UInt8(ascii: " ") || bytes[index + 1] == UInt8(ascii: "\t") {
                    return "complex mapping keys ('? ') are not supported: keys are plain names"
                }
            case UInt8(ascii: "*") where atNodeStart:
                var end = index + 1
                while end < bytes.count, isAnchorCharacter(bytes[end]) { end += 1 }
                var next = end
                while next < bytes.count, bytes[next] == UInt8(ascii: " ") || bytes[next] == UInt8(ascii: "\t") { next += 1 }
                if next < bytes.count, bytes[next] == UInt8(ascii: ":"),
                   next + 1 == bytes.count || [" ", "\t", ",", "}", "]"].map({ UInt8(ascii: $0) }).contains(bytes[next + 1]) {
                    return "an alias cannot be used as a mapping key"
                }
                index = end
                atNodeStart = false
                continue
            default:
                break
            }
            atNodeStart = false
            index += 1
        }
        return nil
    }

    /// Index just past a quoted scalar starting at `start` (or the line's end if unterminated).
    private static func endOfQuoted(_ bytes: [UInt8], from start: Int) -> Int {
        let quote = bytes[start]
        var index = start + 1
        while index < bytes.count {
            if quote == UInt8(ascii: "\""), bytes[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if bytes[index] == quote {
                // '' is an escaped quote inside a single-quoted scalar.
                if quote == UInt8(ascii: "'"), index + 1 < bytes.count, bytes[index + 1] == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return bytes.count
    }

    private static func isAnchorCharacter(_ byte: UInt8) -> Bool {
        !(byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "[")
            || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: ":"))
    }
}
