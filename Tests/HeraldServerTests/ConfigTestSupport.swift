import Foundation
import Testing
@testable import HeraldServer

/// A fresh folder under the system temp dir, removed when the value goes away.
final class ConfigTempFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "herald-config-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let full = path + "/" + relative
        let folder = (full as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        return full
    }

    /// Placeholder PEM files: the loader only checks that TLS files exist and are readable.
    func writeCertificates(in folder: String = ".") throws {
        for name in ["server.pem", "server-key.pem", "ca.pem"] {
            try write(folder + "/" + name, "-----BEGIN PLACEHOLDER-----\n")
        }
    }
}

/// The smallest valid config: one listener with certificates next to the file, anonymous access.
let minimalConfig = """
    listeners:
      - listen: 127.0.0.1:4433
        tls: {cert: server.pem, key: server-key.pem}
    auth:
      anonymous: true

    """

/// Writes `yaml` (and `files`) into a temp folder with certificates and loads it.
func loadConfig(_ yaml: String, files: [String: String] = [:], environment: [String: String] = [:]) throws -> Result<HeraldConfig, ConfigError> {
    let folder = try ConfigTempFolder()
    try folder.writeCertificates()
    for (name, text) in files { try folder.write(name, text) }
    let file = try folder.write("herald.yaml", yaml)
    do {
        return .success(try ConfigLoader.load(file: file, environment: environment))
    } catch {
        return .failure(error)
    }
}

/// The problems of a config expected to be invalid (records an issue when it loads).
func problems(_ yaml: String, files: [String: String] = [:], environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> [ConfigProblem] {
    switch try loadConfig(yaml, files: files, environment: environment) {
    case .success:
        Issue.record("expected problems, but the config loaded", sourceLocation: sourceLocation)
        return []
    case .failure(let error):
        return error.problems
    }
}

/// The config of a file expected to be valid (records its problems as the failure otherwise).
func validConfig(_ yaml: String, files: [String: String] = [:], environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> HeraldConfig? {
    switch try loadConfig(yaml, files: files, environment: environment) {
    case .success(let config):
        return config
    case .failure(let error):
        Issue.record("unexpected problems:\n\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

extension Array where Element == ConfigProblem {
    /// The problem at `line` whose message contains `text`, if any.
    func at(_ line: Int, _ text: String) -> ConfigProblem? {
        first { $0.line == line && $0.message.contains(text) }
    }
}
