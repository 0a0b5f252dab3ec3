import ArgumentParser
import Foundation
import HeraldCore

/// Unbuffered output for the CLI: each line is one write, so piped output (tests, `| head`)
/// sees lines as they happen.
enum Terminal {
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func err(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Prints `message` to stderr and returns the error that exits with `code`.
    static func fail(_ message: String, code: Int32 = 1) -> ExitCode {
        err("herald: \(message)")
        return ExitCode(code)
    }
}

extension Terminal {
    /// Attributes as sorted `Key: value` lines, or as one JSON object (`--json`).
    static func printAttributes(_ attributes: [String: String], json: Bool) {
        let keys = attributes.keys.sorted()
        if json {
            out(JSONValue.object(keys.map { .init(key: $0, value: .string(attributes[$0] ?? "")) }).text)
        } else {
            for key in keys { out("\(key): \(attributes[key] ?? "")") }
        }
    }
}
