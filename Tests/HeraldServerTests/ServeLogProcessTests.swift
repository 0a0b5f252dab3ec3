// `herald serve --log-format json` as a real child process: every line it writes to standard
// error is one JSON object, and the start-up, a plain-TCP client and the stop each leave one.
import Foundation
import HeraldTestSupport
import Testing

extension Integration {
    @Suite struct ServeLogProcess {
        @Test(.timeLimit(.minutes(2))) func everyStandardErrorLineIsAJSONObject() throws {
            try #require(HeraldExecutable.exists, "the herald executable is built by `make test` before the tests: \(HeraldExecutable.path)")
            let directory = makeTemporaryDirectory("herald-serve-log")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let port = try #require(freeLoopbackPort())
            let configPath = directory + "/herald.yaml"
            try """
            listeners:
              - listen: 127.0.0.1:\(port)
                tls:
                  cert: \(TestPaths.serverCert)
                  key: \(TestPaths.serverKey)
            auth:
              anonymous: true
            dataDir: \(directory)/data
            """.write(toFile: configPath, atomically: true, encoding: .utf8)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: HeraldExecutable.path)
            process.arguments = ["serve", "--config", configPath, "--log-format", "json", "--log-level", "info"]
            let stderrPath = directory + "/stderr.log", stdoutPath = directory + "/stdout.log"
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

            #expect(waitUntil(.seconds(30)) { text(stdoutPath).contains("herald listening on 127.0.0.1:\(port)") }, "stderr: \(text(stderrPath))")
            let socket = try PlainSocket(port: port)
            socket.send("not TLS\r\n")
            #expect(socket.waitForServerClose(timeout: .seconds(10)))
            socket.close()
            #expect(waitUntil(.seconds(10)) { text(stderrPath).contains("handshake_failed") })
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)

            let lines = text(stderrPath).split(separator: "\n").map(String.init)
            var events: [String] = []
            for line in lines {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    Issue.record("not a JSON object: \(line)")
                    continue
                }
                #expect(object["ts"] is String && object["level"] is String && object["msg"] is String, "\(line)")
                if let event = object["event"] as? String { events.append(event) }
            }
            #expect(events == ["started", "handshake_failed", "stopping"], "\(lines)")
            #expect(text(stdoutPath).split(separator: "\n") == ["herald listening on 127.0.0.1:\(port)"], "stdout keeps the one line scripts wait for")
        }
    }
}
