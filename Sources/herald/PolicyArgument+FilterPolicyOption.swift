import Foundation

extension PolicyArgument {
    /// `--filter-policy JSON` or `--filter-policy @file`: the policy text, read from the file with `@`.
    static func resolve(_ argument: String?) throws -> String? {
        guard let text = argument, text.hasPrefix("@") else { return argument }
        let path = String(text.dropFirst())
        guard let data = FileManager.default.contents(atPath: path), let contents = String(data: data, encoding: .utf8) else {
            throw Terminal.fail("cannot read filter policy file \(path)")
        }
        return contents
    }
}
