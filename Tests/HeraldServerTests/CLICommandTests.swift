import Foundation
import HeraldClient
import HeraldConfig
import HeraldCore
import HeraldTestSupport
import Testing
@testable import HeraldServer

/// `herald topic …`, `herald subscription list` and the CLI's error messages, run as the real
/// executable against a real TLS server.
extension Integration {
    @Suite struct CLICommandTests {
        static let arnPrefix = "arn:aws:sns:us-east-1:000000000000:"

        /// The JSON lines of `stdout`, each parsed.
        static func objects(_ stdout: String) throws -> [JSONValue] {
            try stdout.split(separator: "\n").map { try JSONParser.parse(String($0), limits: .init(maxDepth: 8)) }
        }

        static func string(_ value: JSONValue?) -> String? {
            if case .string(let text)? = value { return text }
            return nil
        }

        @Test func topicCreateListDeleteInJSONAndTable() throws {
            let server = try TestServer()
            defer { server.stop() }
            let created = try HeraldCLI.run(["topic", "create", "news"] + server.cliOptions)
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout == Self.arnPrefix + "news\n")
            let fifo = try HeraldCLI.run(["topic", "create", "events.fifo", "--attribute", "FifoTopic=true"] + server.cliOptions)
            #expect(fifo.status == 0, "\(fifo.stderr)")
            let mismatch = try HeraldCLI.run(["topic", "create", "plain", "--attribute", "FifoTopic=true"] + server.cliOptions)
            #expect(mismatch.status == 1 && mismatch.stderr.contains("must end with .fifo"), "\(mismatch.stderr)")

            let listed = try HeraldCLI.run(["topic", "list"] + server.cliOptions)
            #expect(listed.status == 0, "\(listed.stderr)")
            let objects = try Self.objects(listed.stdout)
            #expect(objects.compactMap { Self.string($0["Name"]) } == ["events.fifo", "news"])
            #expect(objects.compactMap { Self.string($0["TopicArn"]) } == [Self.arnPrefix + "events.fifo", Self.arnPrefix + "news"])

            let table = try HeraldCLI.run(["topic", "list", "--format", "table"] + server.cliOptions)
            let rows = table.stdout.split(separator: "\n").map(String.init)
            #expect(rows == [
                "NAME         TOPIC ARN",
                "events.fifo  \(Self.arnPrefix)events.fifo",
                "news         \(Self.arnPrefix)news",
            ], "\(table.stdout)")

            let deleted = try HeraldCLI.run(["topic", "delete", "news"] + server.cliOptions)
            #expect(deleted.status == 0, "\(deleted.stderr)")
            let after = try HeraldCLI.run(["topic", "list"] + server.cliOptions)
            #expect(try Self.objects(after.stdout).compactMap { Self.string($0["Name"]) } == ["events.fifo"])
            let missing = try HeraldCLI.run(["topic", "delete", "news"] + server.cliOptions)
            #expect(missing.status == 1 && missing.stderr.contains("no topic named news"), "\(missing.stderr)")
        }

        /// The QREQ topic actions keep HeraldService's permissions: a user who may only subscribe
        /// to `orders` cannot delete it, nor create `other`, and lists only what it may see.
        @Test func topicActionsKeepPermissions() throws {
            let orders = try #require(TopicPattern("orders"))
            let server = try TestServer { config in
                config.auth = HeraldConfig.Auth(allowAnonymous: false, anonymousPermissions: .none, users: [
                    HeraldConfig.User(name: "reader", token: "reader-token", permissions: Permissions(subscribe: [orders])),
                ])
                config.topics = [HeraldConfig.Topic(name: "orders"), HeraldConfig.Topic(name: "secret")]
            }
            defer { server.stop() }
            let options = server.cliOptions + ["--token", "reader-token"]
            let listed = try HeraldCLI.run(["topic", "list"] + options)
            #expect(try Self.objects(listed.stdout).compactMap { Self.string($0["Name"]) } == ["orders"], "\(listed.stderr)")
            let delete = try HeraldCLI.run(["topic", "delete", Self.arnPrefix + "orders"] + options)
            #expect(delete.status == 1 && delete.stderr.contains("NotAuthorized"), "\(delete.stderr)")
            let create = try HeraldCLI.run(["topic", "create", "other"] + options)
            #expect(create.status == 1 && create.stderr.contains("NotAuthorized"), "\(create.stderr)")
        }

        @Test func subscriptionListInJSONAndTable() throws {
            let server = try TestServer { config in
                config.topics = [HeraldConfig.Topic(name: "orders"), HeraldConfig.Topic(name: "payments")]
                config.subscriptions = [HeraldConfig.Subscription(name: "audit-log", topic: "orders", protocol: .stream)]
            }
            defer { server.stop() }
            let client = try server.client()
            defer { client.close() }
            _ = try client.createQueue(name: "billing")
            let arn = try client.subscribe(topic: "payments", queue: "billing")

            let all = try HeraldCLI.run(["subscription", "list"] + server.cliOptions)
            #expect(all.status == 0, "\(all.stderr)")
            let objects = try Self.objects(all.stdout)
            #expect(Set(objects.compactMap { Self.string($0["SubscriptionArn"]) }) == [arn, Self.arnPrefix + "orders:audit-log"])
            let stream = try #require(objects.first { Self.string($0["Protocol"]) == "stream" })
            #expect(Self.string(stream["Endpoint"]) == "audit-log" && Self.string(stream["TopicArn"]) == Self.arnPrefix + "orders")

            let payments = try HeraldCLI.run(["subscription", "list", "--topic", "payments", "--format", "table"] + server.cliOptions)
            let rows = payments.stdout.split(separator: "\n").map(String.init)
            #expect(rows.count == 2, "\(payments.stdout)")
            let header = try #require(rows.first)
            #expect(header.hasPrefix("SUBSCRIPTION ARN") && header.hasSuffix("ENDPOINT"))
            // Columns line up: each header title starts where its cell starts.
            let row = try #require(rows.last)
            for (title, cell) in [("TOPIC ARN", Self.arnPrefix + "payments"), ("PROTOCOL", "sqs"), ("ENDPOINT", "arn:aws:sqs:")] {
                let titleAt = try #require(header.range(of: title)).lowerBound.utf16Offset(in: header)
                let cellAt = try #require(row.range(of: "  " + cell)).lowerBound.utf16Offset(in: row) + 2
                #expect(titleAt == cellAt, "\(title) column: \(payments.stdout)")
            }
            #expect(row.hasPrefix(arn))
        }

        @Test func aWrongCAGetsTheCAHint() throws {
            let server = try TestServer()
            defer { server.stop() }
            // The client certificate is no CA of the server's certificate.
            let wrong = try HeraldCLI.run(["topic", "list", "--server", "127.0.0.1:\(server.port)", "--ca", TestPaths.clientCert])
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("certificate verify failed"), "\(wrong.stderr)")
            #expect(wrong.stderr.contains("pass --ca <file>") && wrong.stderr.contains("certs/dev-ca.pem"), "\(wrong.stderr)")
            let publish = try HeraldCLI.run(["publish", "--topic", "t", "--message", "m", "--server", "127.0.0.1:\(server.port)", "--ca", TestPaths.clientCert])
            #expect(publish.stderr.contains("pass --ca <file>"), "every client command: \(publish.stderr)")
            // Other connect failures get no CA hint.
            let port = try #require(freeLoopbackPort())
            let refused = try HeraldCLI.run(["topic", "list", "--server", "127.0.0.1:\(port)", "--ca", TestPaths.ca])
            #expect(refused.status == 1 && refused.stderr.contains("cannot connect") && !refused.stderr.contains("--ca"), "\(refused.stderr)")
        }

        @Test func aMissingMessageFileSaysFileNotFound() throws {
            let missing = try HeraldCLI.run(["policy", "test", "--policy", #"{"a":["b"]}"#, "--message", "msg.json"])
            #expect(missing.status == 64)
            #expect(missing.stderr.contains("file not found: msg.json"), "\(missing.stderr)")
            #expect(!missing.stderr.contains("parse JSON"), "not a JSON error of the text: \(missing.stderr)")
            let policy = try HeraldCLI.run(["policy", "test", "--policy", "policies/none.json", "--message", #"{"attributes":{}}"#])
            #expect(policy.stderr.contains("file not found: policies/none.json"), "\(policy.stderr)")
            // JSON text and an existing file still work.
            let directory = makeTemporaryDirectory("herald-policy")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try #"{"attributes":{"a":{"Type":"String","Value":"b"}}}"#.write(toFile: directory + "/msg.json", atomically: true, encoding: .utf8)
            let found = try HeraldCLI.run(["policy", "test", "--policy", #"{"a":["b"]}"#, "--message", directory + "/msg.json"])
            #expect(found.status == 0 && found.stdout == "match\n", "\(found.stdout)\(found.stderr)")
        }

        @Test func aPolicySyntaxErrorKeepsSNSTextAndAddsLineAndColumn() throws {
            let run = try HeraldCLI.run(["policy", "test", "--policy", "{\"a\":\n [\"b\"] \"c\"}", "--message", #"{"attributes":{}}"#])
            #expect(run.status == 2)
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "\(run.stdout)")
            #expect(lines.first?.hasPrefix("Invalid parameter: FilterPolicy: failed to parse JSON. Unexpected character") == true)
            #expect(lines.dropFirst().first?.hasPrefix(" at [Source: REDACTED") == true, "SNS's own second line stays")
            #expect(lines.last == "line 2, column 8: expected comma to separate Object entries", "\(run.stdout)")
            let unclosed = try HeraldCLI.run(["policy", "test", "--policy", #"{"a":["b"]"#, "--message", #"{"attributes":{}}"#])
            #expect(unclosed.stdout.hasSuffix("line 1, column 11: expected close marker for Object\n"), "\(unclosed.stdout)")
        }

        /// A usage error found while a subcommand runs shows that subcommand's usage.
        @Test func aSubcommandUsageErrorShowsTheSubcommandsUsage() throws {
            let runTime = try HeraldCLI.run(["policy", "test", "--policy", #"{"a":["b"]}"#, "--message", "not json"])
            #expect(runTime.status == 64)
            #expect(runTime.stderr.contains("Usage: herald policy test "), "\(runTime.stderr)")
            #expect(runTime.stderr.contains("See 'herald policy test --help'"), "\(runTime.stderr)")
            #expect(!runTime.stderr.contains("herald <subcommand>"), "\(runTime.stderr)")
            let parseTime = try HeraldCLI.run(["topic", "list", "--format", "yaml"])
            #expect(parseTime.status == 64 && parseTime.stderr.contains("Usage: herald topic list"), "\(parseTime.stderr)")
        }
    }
}
