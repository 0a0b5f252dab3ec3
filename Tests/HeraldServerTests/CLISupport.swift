// The real `herald` executable run as a child process against an in-process server, with its
// standard output and standard error kept apart (files, or an unread pipe for stdout).
import Foundation
import HeraldTestSupport
import Testing

/// One run of `.build/debug/herald` (built by `make test` before the tests).
final class HeraldCLI: @unchecked Sendable {
    let process = Process()
    let stdoutPath: String
    let stderrPath: String
    private let directory: String
    /// Set with `stdoutUnread`: a pipe nobody reads, so a big enough line blocks the writer.
    private var unreadPipe: Pipe?

    init(_ arguments: [String], stdoutUnread: Bool = false) throws {
        try #require(HeraldExecutable.exists, "the herald executable is built by `make test` before the tests: \(HeraldExecutable.path)")
        directory = makeTemporaryDirectory("herald-cli")
        stdoutPath = directory + "/stdout"
        stderrPath = directory + "/stderr"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: HeraldExecutable.path)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        if stdoutUnread {
            let pipe = Pipe()
            unreadPipe = pipe
            process.standardOutput = pipe
        } else {
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        }
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }

    /// Whether the process ended within `timeout`.
    func waitForExit(timeout: Duration = .seconds(20)) -> Bool {
        waitUntil(timeout) { !process.isRunning }
    }

    /// Whether a stderr line containing `text` appeared within `timeout`.
    func waitForStderr(_ text: String, timeout: Duration = .seconds(20)) -> Bool {
        waitUntil(timeout) { stderr.contains(text) }
    }

    var status: Int32 { process.terminationStatus }

    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Runs to the end (killed after `timeout`): exit status, stdout, stderr.
    static func run(_ arguments: [String], timeout: Duration = .seconds(30)) throws -> (status: Int32, stdout: String, stderr: String) {
        let cli = try HeraldCLI(arguments)
        let exited = cli.waitForExit(timeout: timeout)
        #expect(exited, "herald \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        if !exited { cli.kill() }
        return (cli.status, cli.stdout, cli.stderr)
    }
}

extension TestServer {
    /// `--server` and `--ca` for this server.
    var cliOptions: [String] { ["--server", "127.0.0.1:\(port)", "--ca", TestPaths.ca] }
}
