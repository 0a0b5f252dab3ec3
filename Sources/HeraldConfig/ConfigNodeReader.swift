import Yams

/// Typed, problem-reporting access to a composed YAML tree. Every accessor either returns a value
/// or records a problem at the offending node's line (and returns nil), so the loader can keep
/// going and report everything at once. Paths in messages look like `listeners[0].tls.cert`.
final class ConfigNodeReader {
    let file: String
    /// Each problem with the config-file line it belongs under (a policy file's problem sorts
    /// under the line that names the file).
    private var recorded: [(problem: ConfigProblem, order: Int)] = []

    init(file: String) {
        self.file = file
    }

    var problems: [ConfigProblem] { recorded.map(\.problem) }

    /// Problems in config-file line order (stable: same-line problems keep their order).
    var sortedProblems: [ConfigProblem] {
        recorded.enumerated().sorted { ($0.element.order, $0.offset) < ($1.element.order, $1.offset) }.map(\.element.problem)
    }

    func report(_ message: String, at node: Node?) {
        let line = node?.mark?.line
        recorded.append((ConfigProblem(file: file, line: line, message: message), line ?? 0))
    }

    func report(_ message: String, file: String, line: Int?, under configLine: Int? = nil) {
        recorded.append((ConfigProblem(file: file, line: line, message: message), configLine ?? line ?? 0))
    }

    // MARK: - Structure

    /// The node as a mapping whose keys are all known; unknown keys are reported (with a guess at
    /// what was meant) and skipped.
    /// `ignoringExtensions`: keys starting with `x-` are skipped (a place for YAML anchors).
    func mapping(_ node: Node, path: String, keys allowed: [String], ignoringExtensions: Bool = false) -> ConfigMapping? {
        let label = path.isEmpty ? "top level" : path
        guard case .mapping(let mapping) = node else {
            report("\(label): expected a mapping (key: value lines), found \(Self.kind(of: node))", at: node)
            return nil
        }
        var entries: [ConfigMapping.Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report("\(label): a key must be a plain name, found \(Self.kind(of: keyNode))", at: keyNode)
                continue
            }
            let key = scalar.string
            if ignoringExtensions, key.hasPrefix("x-") { continue }
            guard allowed.contains(key) else {
                var message = "\(label): unknown key '\(key)'"
                if let guess = Self.closest(to: key, in: allowed) {
                    message += "; did you mean '\(guess)'?"
                } else {
                    message += " (expected one of: \(allowed.joined(separator: ", ")))"
                }
                report(message, at: keyNode)
                continue
            }
            entries.append(ConfigMapping.Entry(key: key, keyNode: keyNode, value: value))
        }
        return ConfigMapping(node: node, path: path, entries: entries)
    }

    /// The node as a list. A null value (`key:` with nothing after it) is an empty list.
    func sequence(_ node: Node, path: String) -> [Node]? {
        if Self.isNull(node) { return [] }
        guard case .sequence(let sequence) = node else {
            report("\(path): expected a list (lines starting with '- '), found \(Self.kind(of: node))", at: node)
            return nil
        }
        return Array(sequence)
    }

    // MARK: - Scalars

    func string(_ node: Node, path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report("\(path): expected a single value, found \(Self.kind(of: node))", at: node)
            return nil
        }
        guard !Self.isNull(node) else {
            report("\(path): has no value", at: node)
            return nil
        }
        return scalar.string
    }

    func bool(_ node: Node, path: String) -> Bool? {
        guard let text = string(node, path: path) else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            report("\(path): expected true or false, found '\(text)'", at: node)
            return nil
        }
    }

    func integer(_ node: Node, path: String, range: ClosedRange<Int>, bytes: Bool = false) -> Int? {
        guard let text = string(node, path: path) else { return nil }
        let parsed = bytes ? ConfigValues.byteSize(text) : ConfigValues.integer(text)
        switch parsed {
        case .failure(let problem):
            report("\(path): \(problem.message)", at: node)
            return nil
        case .success(let value):
            guard range.contains(value) else {
                report("\(path): \(value) is out of range (\(range.lowerBound)…\(range.upperBound))", at: node)
                return nil
            }
            return value
        }
    }

    func duration(_ node: Node, path: String, range: ClosedRange<Duration>) -> Duration? {
        guard let text = string(node, path: path) else { return nil }
        switch ConfigValues.duration(text) {
        case .failure(let problem):
            report("\(path): \(problem.message)", at: node)
            return nil
        case .success(let value):
            guard range.contains(value) else {
                report("\(path): \(text) is out of range (\(ConfigValues.text(range.lowerBound))…\(ConfigValues.text(range.upperBound)))", at: node)
                return nil
            }
            return value
        }
    }

    /// One of a fixed set of words.
    func choice<T: RawRepresentable & CaseIterable>(_ node: Node, path: String, as type: T.Type) -> T? where T.RawValue == String {
        guard let text = string(node, path: path) else { return nil }
        if let value = T(rawValue: text) { return value }
        let names = T.allCases.map(\.rawValue)
        report("\(path): expected one of \(names.joined(separator: ", ")), found '\(text)'", at: node)
        return nil
    }

    /// A list of values; a single value is accepted as a list of one.
    func stringList(_ node: Node, path: String) -> [(text: String, node: Node)]? {
        if case .scalar = node, !Self.isNull(node) {
            return string(node, path: path).map { [($0, node)] }
        }
        guard let items = sequence(node, path: path) else { return nil }
        var result: [(text: String, node: Node)] = []
        for (index, item) in items.enumerated() {
            if let text = string(item, path: "\(path)[\(index)]") { result.append((text, item)) }
        }
        return result
    }

    // MARK: - Helpers

    /// YAML's null: a plain (unquoted) empty scalar, `~` or `null`.
    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if isNull(node) { return "nothing" }
            let text = scalar.string
            return text.count > 40 ? "'\(text.prefix(40))…'" : "'\(text)'"
        }
    }

    /// The allowed word the user most likely meant: same letters ignoring case, or within an edit
    /// distance of 2 (1 for short words).
    static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        if let same = candidates.first(where: { $0.lowercased() == lowered }) { return same }
        guard word.count <= 64 else { return nil }
        let budget = word.count <= 4 ? 1 : 2
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            if distance <= budget, distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// A mapping whose keys were checked: look values up by key; missing required keys are reported
/// at the mapping's own line.
struct ConfigMapping {
    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    var node: Node
    var path: String
    var entries: [Entry]

    subscript(key: String) -> Node? {
        entries.first { $0.key == key }?.value
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    /// The key itself (for problems about the whole entry: its line is where the key is written).
    func keyNode(_ key: String) -> Node? {
        entries.first { $0.key == key }?.keyNode
    }

    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of a required key, or nil after reporting it missing.
    func required(_ key: String, _ reader: ConfigNodeReader) -> Node? {
        if let value = self[key] { return value }
        reader.report("\(path.isEmpty ? "top level" : path): missing required key '\(key)'", at: node)
        return nil
    }
}
