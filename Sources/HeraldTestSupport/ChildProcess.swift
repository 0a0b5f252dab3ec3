// Real processes for crash tests: the `herald` executable started as a child, killed with SIGKILL.
import Foundation
import HeraldNet

/// A child process whose standard error goes to a file (read it when a test fails).
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    public let stderrPath: String

    public init(executable: String, arguments: [String], stderrPath: String) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        self.stderrPath = stderrPath
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
    }

    /// SIGKILL, then waits for the exit.
    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    public var isRunning: Bool { process.isRunning }

    public var stderrText: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Runs a command to its end: its exit status and everything it wrote (stdout and stderr).
    /// `environment` entries are added to this process's environment.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added } }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Whether `command` runs and exits 0 (a tool's presence: `["python3", "-c", "import boto3"]`).
    public static func succeeds(_ command: [String]) -> Bool {
        (try? run("/usr/bin/env", command))?.status == 0
    }
}

/// The `herald` executable of this checkout's debug build (`make test` builds it first).
public enum HeraldExecutable {
    public static let path = TestPaths.repository + "/.build/debug/herald"
    public static var exists: Bool { FileManager.default.isExecutableFile(atPath: path) }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (`SocketAddress.freeLoopbackPort`).
public func freeLoopbackPort() -> Int? { SocketAddress.freeLoopbackPort() }

/// A fresh temporary directory.
public func makeTemporaryDirectory(_ prefix: String) -> String {
    let path = NSTemporaryDirectory() + "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
