// BenchWrk: Debian's `wrk` as the reference load generator of `herald bench http` — found on the
// PATH or installed with apt-get, run as a child process against the bench's sink, its
// "Requests/sec:" line parsed. Called from the bench's thread only; every call blocks.
import Foundation

struct BenchWrk {
    let executable: String
    /// The Lua script: POST with the bench's body (wrk sends GET without one).
    let script: String

    /// Finds `wrk`, installing it (`apt-get install -y wrk`, through `sudo` when not root) when it
    /// is missing; writes the POST script with a `bodySize`-byte body into `directory`.
    static func prepare(bodySize: Int, directory: String, log: (String) -> Void) throws -> BenchWrk {
        let executable: String
        if let found = BenchProcess.which("wrk") {
            executable = found
        } else {
            log("wrk is not installed: installing it with apt-get (Debian's wrk package)")
            let root = getuid() == 0
            let command = root ? ["apt-get", "install", "-y", "wrk"] : ["sudo", "-n", "apt-get", "install", "-y", "wrk"]
            let result = try? BenchProcess.run(command, environment: ["DEBIAN_FRONTEND": "noninteractive"])
            guard let found = BenchProcess.which("wrk") else {
                let output = result.map { $0.status == 0 ? "" : ": exit \($0.status): \($0.output.suffix(400))" } ?? ": cannot run \(command[0])"
                throw BenchError("wrk is missing and `\(command.joined(separator: " "))` did not install it\(output)\n"
                    + "Install it by hand (apt-get install wrk) and run the bench again.")
            }
            executable = found
        }
        let script = directory + "/post.lua"
        let body = String(repeating: "x", count: bodySize)
        let lua = """
            wrk.method = "POST"
            wrk.body = "\(body)"
            wrk.headers["Content-Type"] = "text/plain"

            """
        do {
            try lua.write(toFile: script, atomically: true, encoding: .utf8)
        } catch {
            throw BenchError("cannot write \(script): \(error.localizedDescription)")
        }
        return BenchWrk(executable: executable, script: script)
    }

    /// `wrk -t 1 -c connections -d seconds -s post.lua url`: its Requests/sec.
    func run(url: String, connections: Int, seconds: Int) throws -> Double {
        let arguments = [executable, "-t", "1", "-c", "\(connections)", "-d", "\(seconds)s", "-s", script, url]
        let result = try BenchProcess.run(arguments)
        guard result.status == 0 else {
            throw BenchError("wrk exited with \(result.status): \(result.output.suffix(600))")
        }
        guard let rate = Self.requestsPerSecond(result.output) else {
            throw BenchError("no Requests/sec line in wrk's output:\n\(result.output.suffix(600))")
        }
        if result.output.contains("Non-2xx") || result.output.contains("Socket errors") {
            throw BenchError("wrk reports errors against the sink:\n\(result.output.suffix(600))")
        }
        return rate
    }

    /// The number on wrk's `Requests/sec:   12345.67` line.
    static func requestsPerSecond(_ output: String) -> Double? {
        for line in output.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("Requests/sec:") else { continue }
            return Double(trimmed.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}

/// Child processes of the bench: run to completion, or started and stopped by the caller.
enum BenchProcess {
    struct Result {
        var status: Int32
        /// stdout and stderr together.
        var output: String
    }

    /// The first executable `name` on the PATH (plus the sbin folders apt's tools live in).
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let folders = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/usr/sbin", "/sbin"]
        return folders.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `arguments` (the first one looked up on the PATH) and collects its output.
    static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Result {
        guard let first = arguments.first, let executable = first.hasPrefix("/") ? first : which(first) else {
            throw BenchError("\(arguments.first ?? "(nothing)"): not found on the PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw BenchError("cannot run \(executable): \(error.localizedDescription)")
        }
        BenchChildren.add(process.processIdentifier)
        defer { BenchChildren.remove(process.processIdentifier) }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
