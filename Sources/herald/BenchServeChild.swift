// BenchServeChild: `herald serve` as a child process of `herald bench http` — this same
// executable, with a config file the bench writes, a fresh data directory and a listener on an
// ephemeral port (read back from its "herald listening on" line). A child, not an in-process
// `Server`, so the server's CPU and the sink's are separate processes as in production, and a
// config this server does not understand comes back as the server's own error text.
//
// Contract: created, used and stopped from the bench's thread. Two reader threads drain the
// child's stdout and stderr into `output` (so the child never blocks on a full pipe).
import Dispatch
import Foundation
import HeraldNet
import Synchronization

final class BenchServeChild {
    /// The child exited before listening: usually its config was refused (a feature this server
    /// lacks); `description` holds what it printed.
    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    private let process: Process
    private let output: BenchChildOutput

    /// Writes `config` (YAML; `%LISTEN%` is replaced by 127.0.0.1:0) to `directory`/herald.yaml and
    /// starts `herald serve` on it with `dataDirectory`; waits up to 30 s for its listener.
    init(config: String, directory: String, dataDirectory: String) throws {
        let file = directory + "/herald-\(DispatchTime.now().uptimeNanoseconds % 1_000_000_000).yaml"
        do {
            try config.write(toFile: file, atomically: true, encoding: .utf8)
        } catch {
            throw BenchError("cannot write \(file): \(error.localizedDescription)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BenchServeChild.executablePath)
        process.arguments = ["serve", "--config", file, "--data-dir", dataDirectory]
        process.standardInput = FileHandle.nullDevice
        let output = BenchChildOutput()
        process.standardOutput = output.attach()
        process.standardError = output.attach()
        do {
            try process.run()
        } catch {
            throw BenchError("cannot start \(BenchServeChild.executablePath) serve: \(error.localizedDescription)")
        }
        self.process = process
        self.output = output
        BenchChildren.add(process.processIdentifier)
        let deadline = ContinuousClock.now + .seconds(30)
        var found: Int?
        while found == nil {
            found = output.text.split(separator: "\n").lazy.compactMap(BenchServeChild.listeningPort).first
            if found != nil { break }
            if !process.isRunning {
                process.waitUntilExit()
                BenchChildren.remove(process.processIdentifier)
                let text = output.text.trimmingCharacters(in: .whitespacesAndNewlines)
                throw StartFailure(description: "herald serve exited with \(process.terminationStatus):\n\(text)")
            }
            if ContinuousClock.now > deadline {
                process.terminate()
                process.waitUntilExit()
                BenchChildren.remove(process.processIdentifier)
                throw BenchError("herald serve did not print its listener within 30 s:\n\(output.text.suffix(600))")
            }
            usleep(10_000)
        }
        port = found ?? 0
    }

    /// SIGTERM, then SIGKILL after 10 s.
    func stop() {
        defer { BenchChildren.remove(process.processIdentifier) }
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Everything the child printed (its log goes to stderr).
    var log: String { output.text }

    /// The child's user + system CPU time so far, in seconds (/proc/PID/stat fields 14 and 15).
    var cpuSeconds: Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// This executable (Linux: /proc/self/exe), so the child is the same build as the bench.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "herald").standardizedFileURL.path
    }

    /// The port of a "herald listening on 127.0.0.1:PORT" line.
    static func listeningPort(_ line: Substring) -> Int? {
        guard let range = line.range(of: "herald listening on ") else { return nil }
        let address = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
        guard let colon = address.lastIndex(of: ":") else { return nil }
        return Int(address[address.index(after: colon)...])
    }
}

/// A child's stdout and stderr, collected by one reader thread per pipe.
final class BenchChildOutput: Sendable {
    /// The text, in a class of its own so the reader threads can hold it.
    private final class Buffer: Sendable {
        let text = Mutex("")
    }

    private let buffer = Buffer()

    var text: String { buffer.text.withLock { $0 } }

    /// A pipe whose bytes are appended to the text until the child closes it.
    func attach() -> Pipe {
        let pipe = Pipe()
        let reading = pipe.fileHandleForReading
        Thread { [buffer] in
            while true {
                let data = reading.availableData
                if data.isEmpty { return }
                let chunk = String(decoding: data, as: UTF8.self)
                buffer.text.withLock { text in
                    text += chunk
                    // Keep the start (listener, config problems) and the latest 64 KiB.
                    if text.utf8.count > 128 * 1024 { text = String(text.prefix(4096)) + "\n…\n" + String(text.suffix(64 * 1024)) }
                }
            }
        }.start()
        return pipe
    }
}

/// The bench's live child processes (servers, wrk), so an interrupted bench leaves none running.
enum BenchChildren {
    private static let live = Mutex<Set<Int32>>([])

    static func add(_ pid: Int32) { _ = live.withLock { $0.insert(pid) } }
    static func remove(_ pid: Int32) { _ = live.withLock { $0.remove(pid) } }

    /// On SIGINT or SIGTERM: SIGTERM to every live child, `cleanup`, exit 130. Keep the watchers.
    static func stopOnInterrupt(cleanup: @escaping @Sendable () -> Void) -> [SignalWatcher] {
        let handler: @Sendable () -> Void = {
            for pid in live.withLock({ $0 }) { kill(pid, SIGTERM) }
            cleanup()
            Terminal.err("herald bench: interrupted, children stopped")
            exit(130)
        }
        return [SignalWatcher(signal: SIGINT, handler: handler), SignalWatcher(signal: SIGTERM, handler: handler)]
    }
}
