/// One thing wrong with a configuration: where (file and 1-based line, when known) and what.
/// `description` is the `FILE:LINE: message` form editors and CI logs understand.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file the problem is in (the config file or a filter-policy file), as the user named it;
    /// nil for problems that belong to no file (a `--listen` argument, a missing certs folder).
    public var file: String?
    /// 1-based line; nil when the position is unknown (unreadable file, whole-file problems).
    public var line: Int?
    public var message: String

    public init(file: String?, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        switch (file, line) {
        case let (file?, line?): return "\(file):\(line): \(message)"
        case let (file?, nil): return "\(file): \(message)"
        case let (nil, line?): return "line \(line): \(message)"
        case (nil, nil): return message
        }
    }
}

/// The configuration error: every problem found, in file order (never empty).
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    public init(_ message: String) {
        self.problems = [ConfigProblem(file: nil, line: nil, message: message)]
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
