import Foundation
import Yams

/// Reads a Herald config file (YAML, or JSON, which YAML includes) into a validated `HeraldConfig`,
/// or throws a `ConfigError` listing every problem found, each with file and line.
///
/// The file is composed with Yams' node API so every value keeps its position; the loader never
/// stops at the first problem. Filter-policy files are read relative to the config file's folder
/// and validated with the configured limits.
public enum ConfigLoader {
    /// Config files larger than this are refused before parsing.
    public static let maxFileBytes = 4 << 20

    /// Loads the config file at `path` (as the user named it; problems use this spelling).
    /// `environment` supplies the variables named by `tokenEnv:`.
    public static func load(
        file path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> HeraldConfig {
        let text: String
        switch ConfigFiles.readText(path, maxBytes: maxFileBytes) {
        case .success(let contents): text = contents
        case .failure(let problem): throw ConfigError(problems: [ConfigProblem(file: path, line: nil, message: problem.message)])
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try load(yaml: text, file: path, baseDirectory: directory, environment: environment)
    }

    /// Loads config text. `file` names it in problems; relative paths inside (TLS files, policy
    /// files) are resolved against `baseDirectory` (relative to the current directory if relative).
    public static func load(
        yaml text: String, file: String, baseDirectory: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> HeraldConfig {
        let reader = ConfigNodeReader(file: file)
        if let refusal = ConfigYAMLGuard.refusal(in: text) {
            reader.report(refusal.message, file: file, line: refusal.line)
            throw ConfigError(problems: reader.sortedProblems)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            reader.report(ConfigYAMLError.message(error), file: file, line: ConfigYAMLError.line(error))
            throw ConfigError(problems: reader.sortedProblems)
        }
        guard let root else {
            reader.report("the file is empty: at least one listener is required", file: file, line: 1)
            throw ConfigError(problems: reader.sortedProblems)
        }
        let parse = ConfigParse(reader: reader, baseDirectory: baseDirectory, environment: environment)
        let config = parse.config(from: root)
        guard reader.problems.isEmpty, var config else { throw ConfigError(problems: reader.sortedProblems) }
        config.sourceFile = file
        return config
    }
}

/// Turns Yams' errors into one line of text and a line number.
enum ConfigYAMLError {
    static func line(_ error: any Error) -> Int? {
        guard let error = error as? YamlError else { return nil }
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        case .duplicatedKeysInMapping(_, let context): return context.mark.line
        case .reader(_, let offset?, _, let yaml):
            let prefix = yaml.utf8.prefix(max(0, offset))
            return prefix.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        default: return nil
        }
    }

    static func message(_ error: any Error) -> String {
        guard let error = error as? YamlError else { return "cannot parse the file: \(error)" }
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            var text = "invalid YAML: \(problem)"
            if let context { text += " (\(context.text) at line \(context.mark.line))" }
            // The classic slip: an unquoted `*` in a permission list is read as a YAML alias.
            if context?.text.contains("alias") == true { text += "; write a lone * in quotes: \"*\"" }
            return text
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping"
        case .reader(let problem, _, _, _):
            return "cannot read the file as text: \(problem)"
        default:
            return "invalid YAML: \(error)"
        }
    }
}

/// File access for the loader: bounded reads and existence checks with readable messages.
enum ConfigFiles {
    static func readText(_ path: String, maxBytes: Int) -> Result<String, ValueProblem> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(ValueProblem("file not found"))
        }
        guard !isDirectory.boolValue else { return .failure(ValueProblem("is a folder, not a file")) }
        guard let handle = FileHandle(forReadingAtPath: path) else { return .failure(ValueProblem("cannot open the file (permissions?)")) }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maxBytes + 1) ?? Data()
        } catch {
            return .failure(ValueProblem("cannot read the file: \(error.localizedDescription)"))
        }
        guard data.count <= maxBytes else { return .failure(ValueProblem("the file is larger than \(maxBytes) bytes")) }
        guard let text = String(data: data, encoding: .utf8) else { return .failure(ValueProblem("the file is not UTF-8 text")) }
        return .success(text)
    }

    /// nil when `path` is a readable regular file, else why not.
    static func problemReading(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "file not found" }
        if isDirectory.boolValue { return "is a folder, not a file" }
        if !FileManager.default.isReadableFile(atPath: path) { return "file is not readable" }
        return nil
    }

    /// `relative` as the user should see it: joined to the config file's folder unless absolute.
    static func join(_ directory: String, _ relative: String) -> String {
        if relative.hasPrefix("/") || directory.isEmpty || directory == "." { return relative }
        return directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
    }

    /// The absolute, standardized form of a path, for the runtime to open later.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
