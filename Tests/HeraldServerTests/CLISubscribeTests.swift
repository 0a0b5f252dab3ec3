import Foundation
import FilterPolicy
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldTestSupport
import Testing
@testable import HeraldServer

/// `herald subscribe` as a user runs it: the live line, ack and auto mode, resuming with the
/// printed session, and attaching to a configuration subscription.
extension Integration {
    @Suite struct CLISubscribeTests {
        /// The parts of `herald subscribe`'s live line in `stderr`.
        static func liveLine(in stderr: String) -> (topic: String, sid: String, session: String, again: String)? {
            let pattern = #/subscribed to (?<topic>\S+) \(sid (?<sid>\d+), session (?<session>[0-9a-f]{32})\); resume with --session (?<again>[0-9a-f]{32})/#
            guard let match = stderr.firstMatch(of: pattern) else { return nil }
            return (String(match.topic), String(match.sid), String(match.session), String(match.again))
        }

        /// The README tour's race: `herald subscribe … &`, wait for the live line, publish. The
        /// message published right after the line must arrive, every time.
        @Test func theLiveLineComesBeforeAPublishAndTheMessageArrives() throws {
            let server = try TestServer()
            defer { server.stop() }
            let publisher = try server.client()
            defer { publisher.close() }
            for round in 0..<3 {
                let subscriber = try HeraldCLI(["subscribe", "--topic", "tour-\(round)", "--count", "1"] + server.cliOptions)
                #expect(subscriber.waitForStderr("resume with --session"), "no live line: \(subscriber.stderr)")
                let live = try #require(Self.liveLine(in: subscriber.stderr), "live line format: \(subscriber.stderr)")
                #expect(live.topic == "tour-\(round)" && live.sid == "1" && live.session == live.again)
                #expect(subscriber.stdout.isEmpty, "nothing printed before the publish")
                let id = try publisher.publish(topic: "tour-\(round)", body: Array("hello \(round)".utf8))
                #expect(subscriber.waitForExit(), "the --count 1 subscriber got its message and ended: \(subscriber.stderr)")
                #expect(subscriber.status == 0)
                let line = try #require(subscriber.stdoutLines.first)
                #expect(line.contains(#""id":"\#(id.text)""#) && line.contains(#""message":"hello \#(round)""#), "\(line)")
            }
        }

        /// A body too big for the pipe keeps `herald subscribe` blocked printing it, so it never
        /// acks; then it is killed. `--ack-mode ack`: the printed `--session` resumes the session
        /// and the message comes again (redelivered). `--ack-mode auto`: the server forgot it on
        /// sending and kept no session, as the live line says.
        @Test(arguments: ["ack", "auto"]) func ackModeDecidesWhetherAnUnprintedMessageComesBack(mode: String) throws {
            let server = try TestServer()
            defer { server.stop() }
            let topic = "modes-\(mode)"
            let stuck = try HeraldCLI(["subscribe", "--topic", topic, "--ack-mode", mode] + server.cliOptions, stdoutUnread: true)
            #expect(stuck.waitForStderr("subscribed to \(topic)"), "\(stuck.stderr)")
            let session = try #require(stuck.stderr.firstMatch(of: #/session ([0-9a-f]{32})\)/#)?.1, "\(stuck.stderr)")
            #expect(stuck.stderr.contains(mode == "ack" ? "resume with --session \(session)" : "--ack-mode auto keeps nothing to resume"), "\(stuck.stderr)")
            let publisher = try server.client()
            defer { publisher.close() }
            let big = String(repeating: "x", count: 200_000)
            let id = try publisher.publish(topic: topic, body: Array(big.utf8))
            // The subscriber got it (its stdout pipe is full of it) and is stuck writing.
            usleep(500_000)
            #expect(stuck.process.isRunning)
            stuck.kill()

            let resumed = try HeraldCLI(["subscribe", "--topic", topic, "--ack-mode", mode, "--count", "1", "--session", String(session)] + server.cliOptions)
            defer { resumed.kill() }
            if mode == "ack" {
                #expect(resumed.waitForStderr("session \(session)"), "resumed the printed session: \(resumed.stderr)")
                #expect(resumed.waitForExit(), "the unacked message came again: \(resumed.stderr)")
                #expect(resumed.status == 0 && resumed.stdout.contains(id.text), "\(resumed.stdout)")
            } else {
                // Nothing was kept: the session ended with its connection, the message is gone.
                #expect(resumed.waitForExit(), "\(resumed.stderr)")
                #expect(resumed.status == 1 && resumed.stderr.contains("NotAuthorized"), "\(resumed.stderr)")
                #expect(resumed.stdout.isEmpty)
            }
        }

        /// `--from-config-subscription NAME` without `--topic`: the topic is looked up, the
        /// configuration's filter policy applies.
        @Test func fromConfigSubscriptionAttachesWithTheConfiguredPolicy() throws {
            let server = try TestServer { config in
                config.topics = [HeraldConfig.Topic(name: "orders")]
                config.subscriptions = [HeraldConfig.Subscription(
                    name: "audit-log", topic: "orders", protocol: .stream, filterPolicy: try? FilterPolicy.parse(#"{"kind":["audit"]}"#))]
            }
            defer { server.stop() }
            let subscriber = try HeraldCLI(["subscribe", "--from-config-subscription", "audit-log", "--count", "1"] + server.cliOptions)
            defer { subscriber.kill() }
            #expect(subscriber.waitForStderr("subscribed to orders"), "\(subscriber.stderr)")
            let publisher = try server.client()
            defer { publisher.close() }
            _ = try publisher.publish(topic: "orders", attributes: ["kind": .string("other")], body: Array("filtered out".utf8))
            _ = try publisher.publish(topic: "orders", attributes: ["kind": .string("audit")], body: Array("kept".utf8))
            #expect(subscriber.waitForExit(), "\(subscriber.stderr)")
            #expect(subscriber.stdoutLines.count == 1)
            #expect(subscriber.stdout.contains(#""message":"kept""#), "\(subscriber.stdout)")

            let unknown = try HeraldCLI.run(["subscribe", "--from-config-subscription", "nope", "--count", "1"] + server.cliOptions)
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("declares no stream subscription named nope"), "\(unknown.stderr)")
        }
    }
}
