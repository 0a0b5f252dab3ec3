import Foundation
import Testing
@testable import HeraldConfig

/// Each kind of problem is reported, with the line of the offending value, and loading goes on.
@Suite struct ConfigProblemTests {
    @Test func yamlSyntaxErrorHasItsLine() throws {
        let found = try configProblems("listeners:\n  - listen: 127.0.0.1:1\n    tls: {cert: a\nauth: x\n")
        #expect(found.count == 1)
        let problem = try #require(found.first)
        #expect(problem.message.hasPrefix("invalid YAML"))
        #expect(problem.line == 4)
        #expect(problem.file?.hasSuffix("herald.yaml") == true)
        #expect(problem.description.hasPrefix(problem.file.map { "\($0):4: invalid YAML" } ?? "-"))
    }

    @Test func unquotedStarGetsAHint() throws {
        let found = try configProblems(minimalConfig + "  users:\n    - name: a\n      token: x\n      publish: [*]\n")
        #expect(found.count == 1)
        #expect(found.at(9, #"invalid YAML"#) != nil)
        #expect(found.at(9, #"write a lone * in quotes: "*""#) != nil)
    }

    @Test func extensionKeysHoldAnchors() throws {
        let yaml = """
            x-tls: &tls {cert: server.pem, key: server-key.pem}
            listeners:
              - listen: 127.0.0.1:4433
                tls: *tls
              - listen: 127.0.0.1:4434
                tls: *tls
            auth: {anonymous: true}
            """
        #expect(try validConfig(yaml)?.listeners.count == 2)
        // Only at the top level.
        #expect(try configProblems(minimalConfig + "limits: {x-note: 1}\n").at(6, "limits: unknown key 'x-note'") != nil)
    }

    @Test func duplicateYAMLKeyIsReported() throws {
        let found = try configProblems(minimalConfig + "topics: [a]\ntopics: [b]\n")
        #expect(found.count == 1)
        #expect(found.first?.message.contains("duplicate key 'topics'") == true)
        #expect(found.first?.line != nil)
    }

    @Test func emptyAndNonMappingFiles() throws {
        #expect(try configProblems("").first?.message.contains("empty") == true)
        #expect(try configProblems("# only a comment\n").first?.message.contains("empty") == true)
        #expect(try configProblems("- a\n- b\n").at(1, "expected a mapping") != nil)
        #expect(try configProblems("just text").at(1, "expected a mapping") != nil)
    }

    @Test func unknownKeysSuggestTheRightOne() throws {
        let yaml = minimalConfig + "autoCreateTopic: true\ntopcis: []\nfrobnicate: 1\n"
        let found = try configProblems(yaml)
        #expect(found.at(6, "unknown key 'autoCreateTopic'; did you mean 'autoCreateTopics'?") != nil)
        #expect(found.at(7, "did you mean 'topics'?") != nil)
        #expect(found.at(8, "top level: unknown key 'frobnicate' (expected one of:") != nil)
        #expect(found.count == 3)
    }

    @Test func wrongTypesAndMissingFields() throws {
        let yaml = """
            listeners:
              - listen: 127.0.0.1:4433
            auth:
              anonymous: maybe
            topics: orders
            autoCreateTopics: [true]
            subscriptions:
              - topic: orders
            """
        let found = try configProblems(yaml)
        #expect(found.at(2, "listeners[0]: missing required key 'tls'") != nil)
        #expect(found.at(4, "auth.anonymous: expected true or false, found 'maybe'") != nil)
        #expect(found.at(5, "topics: expected a list") != nil)
        #expect(found.at(6, "autoCreateTopics: expected a single value, found a list") != nil)
        #expect(found.at(8, "subscriptions[0]: missing required key 'name'") != nil)
    }

    @Test func listenersAndTLSFiles() throws {
        let yaml = """
            listeners:
              - listen: 127.0.0.1:70000
                tls: {cert: server.pem, key: missing-key.pem}
              - listen: "::1:4433"
                tls: {cert: server.pem, key: server-key.pem, clientAuth: required}
              - listen: 127.0.0.1:4433
                tls: {cert: server.pem, key: server-key.pem, clientAuth: sometimes}
              - listen: 127.0.0.1:4433
                tls: {cert: ., key: server-key.pem}
            auth: {anonymous: true}
            """
        let found = try configProblems(yaml)
        #expect(found.at(2, "port must be a number from 0 to 65535") != nil)
        #expect(found.at(3, "listeners[0].tls.key: '") != nil)
        #expect(found.at(3, "/missing-key.pem': file not found") != nil)
        #expect(found.at(4, "write an IPv6 host in brackets") != nil)
        #expect(found.at(5, "'required' needs clientCA") != nil)
        #expect(found.at(7, "expected one of none, optional, required, found 'sometimes'") != nil)
        #expect(found.at(8, "duplicate listen address '127.0.0.1:4433' (first at line 6)") != nil)
        #expect(found.at(9, "is a folder, not a file") != nil)
        #expect(found.count == 7)
    }

    @Test func noListenersIsAProblem() throws {
        #expect(try configProblems("listeners: []\nauth: {anonymous: true}\n").at(1, "at least one listener") != nil)
        #expect(try configProblems("auth: {anonymous: true}\n").at(1, "missing required key 'listeners'") != nil)
    }

    @Test func valuesOutOfRangeAndBadDurations() throws {
        let yaml = minimalConfig + """
            limits:
              maxMessageBytes: 64MiB
              maxAttributes: -1
              filterPolicy: {maxKeys: 0, maxCombinations: 1.5}
            timeouts:
              handshake: 10
              idle: 1m
              heartbeat: 2m
            sessions: {resumeWindow: 3 days}
            """
        let found = try configProblems(yaml)
        #expect(found.at(7, "limits.maxMessageBytes: 67108864 is out of range (1…16777216)") != nil)
        #expect(found.at(8, "limits.maxAttributes: '-1' is not a whole number") != nil)
        #expect(found.at(9, "limits.filterPolicy.maxKeys: 0 is out of range") != nil)
        #expect(found.at(9, "limits.filterPolicy.maxCombinations: '1.5' is not a whole number") != nil)
        #expect(found.at(11, "timeouts.handshake: '10' is not a duration") != nil)
        #expect(found.at(13, "heartbeat (2m) must be shorter than idle (1m)") != nil)
        #expect(found.at(14, "sessions.resumeWindow: '3 days' is not a duration") != nil)
        #expect(found.count == 7)
    }

    @Test func usersCredentialsAndDuplicates() throws {
        let yaml = """
            listeners:
              - listen: 127.0.0.1:4433
                tls: {cert: server.pem, key: server-key.pem}
            auth:
              users:
                - name: a
                  token: tok-1
                - name: a
                  token: tok-2
                - name: b
                  token: tok-1
                - name: c
                  publish: ["*"]
                - name: d
                  token: x
                  tokenEnv: D_TOKEN
                - name: e
                  tokenEnv: UNSET_VARIABLE
                - name: f
                  certificateCN: f.internal
                - name: g
                  tokenEnv: G_TOKEN
                  publish: ["or*ders", "ok*", "bad name"]
            """
        let found = try configProblems(yaml, environment: ["G_TOKEN": "tok-2"])
        #expect(found.at(8, "duplicate user name 'a' (first at line 6)") != nil)
        #expect(found.at(11, "duplicate token") != nil)
        #expect(found.at(12, "user 'c' has no credentials") != nil)
        #expect(found.at(16, "give either token or tokenEnv, not both") != nil)
        #expect(found.at(18, "environment variable UNSET_VARIABLE is not set") != nil)
        #expect(found.at(20, "no listener asks for client certificates") != nil)
        // G_TOKEN's value equals user a's second token.
        #expect(found.at(22, "duplicate token") != nil)
        #expect(found.at(23, "'or*ders': '*' may only end a topic pattern") != nil)
        #expect(found.at(23, "topic name 'bad name' may only use") != nil)
        #expect(found.count == 9)
        // Secrets never appear in messages.
        #expect(!found.contains { $0.message.contains("tok-1") || $0.message.contains("tok-2") })
    }

    @Test func nobodyCouldConnect() throws {
        let yaml = "listeners:\n  - listen: 127.0.0.1:1\n    tls: {cert: server.pem, key: server-key.pem}\n"
        #expect(try configProblems(yaml).contains { $0.message.contains("nobody could connect") })
        #expect(try configProblems(yaml + "auth:\n  anonymous: false\n").at(4, "nobody could connect") != nil)
    }

    @Test func topicsAndSubscriptions() throws {
        let yaml = minimalConfig + """
            topics:
              - orders
              - "bad topic"
              - orders
              - name: x.fifo.fifo
              - {nam: y}
            subscriptions:
              - name: s1
                topic: payments
              - name: s1
                topic: orders
                protocol: lambda
              - name: s3
                topic: orders
                protocol: carrier-pigeon
              - name: "bad name!"
                topic: orders
              - name: s5
                topic: orders
                filterPolicy: {a: [b]}
                filterPolicyFile: p.json
              - name: s6
                topic: orders
                filterPolicyScope: MessageBody
              - name: s7
                topic: orders
                filterPolicy: [a]
            queues:
              - name: q
            """
        let found = try configProblems(yaml)
        #expect(found.at(8, "topic name 'bad topic'") != nil)
        #expect(found.at(9, "duplicate topic 'orders' (first at line 7)") != nil)
        #expect(found.at(10, "topic name 'x.fifo.fifo'") != nil)
        #expect(found.at(11, "unknown key 'nam'; did you mean 'name'?") != nil)
        #expect(found.at(11, "topics[4]: missing required key 'name'") != nil)
        #expect(found.at(14, "unknown topic 'payments' (declare it under topics:, or set autoCreateTopics: true)") != nil)
        #expect(found.at(15, "duplicate subscription 's1' (first at line 13)") != nil)
        #expect(found.at(17, "protocol 'lambda' is not supported yet (supported: stream, sqs, http, https)") != nil)
        #expect(found.at(20, "unknown protocol 'carrier-pigeon'") != nil)
        #expect(found.at(21, "subscription name 'bad name!'") != nil)
        #expect(found.at(26, "give either filterPolicy or filterPolicyFile, not both") != nil)
        #expect(found.at(29, "no filterPolicy or filterPolicyFile for it to apply to") != nil)
        #expect(found.at(32, "expected the policy as a mapping or a JSON string, found a list") != nil)
        #expect(found.count == 13)
    }

    @Test func autoCreateTopicsAllowsUndeclaredTopics() throws {
        let yaml = minimalConfig + "autoCreateTopics: true\nsubscriptions:\n  - name: s\n    topic: anything\n"
        let config = try #require(try validConfig(yaml))
        #expect(config.subscriptions.first?.topic == "anything")
    }

    @Test func invalidInlinePolicyReportsTheSNSReason() throws {
        let yaml = minimalConfig + """
            autoCreateTopics: true
            subscriptions:
              - name: too-many-keys
                topic: t
                filterPolicy: {a: [1], b: [1], c: [1], d: [1], e: [1], f: [1]}
              - name: nested-under-attributes
                topic: t
                filterPolicy: {a: {b: [1]}}
              - name: bad-json-string
                topic: t
                filterPolicy: |
                  {
                    "a": ["x"
                  }
              - name: bad-operator
                topic: t
                filterPolicy: '{"a": [{"numeric": [">", "x"]}]}'
            """
        let found = try configProblems(yaml)
        #expect(found.at(10, "subscriptions[0].filterPolicy: invalid filter policy: Filter policy can not have more than 5 keys") != nil)
        #expect(found.at(13, "invalid filter policy: Filter policy scope MessageAttributes does not support nested filter policy") != nil)
        // The JSON error is on the policy's 3rd line: the `}` where `]` was expected.
        #expect(found.at(19, "invalid filter policy: failed to parse JSON.") != nil)
        #expect(found.at(22, "subscriptions[3].filterPolicy: invalid filter policy: Value of > must be numeric") != nil)
        #expect(found.count == 4)
    }

    @Test func tooComplexPolicyFollowsTheConfiguredLimit() throws {
        // 3 keys × 10 values = 1000 combinations: too complex for SNS (150), fine at 1000.
        let values = (1...10).map(String.init).joined(separator: ", ")
        let policy = "{a: [\(values)], b: [\(values)], c: [\(values)]}"
        let body = "autoCreateTopics: true\nsubscriptions:\n  - name: s\n    topic: t\n    filterPolicy: \(policy)\n"
        #expect(try configProblems(minimalConfig + body).at(10, "invalid filter policy: Filter policy is too complex") != nil)
        let raised = minimalConfig + "limits:\n  filterPolicy: {maxCombinations: 1000}\n" + body
        #expect(try validConfig(raised)?.subscriptions.first?.filterPolicy != nil)
    }

    @Test func policyFileProblemsNameThePolicyFile() throws {
        let yaml = minimalConfig + """
            autoCreateTopics: true
            subscriptions:
              - name: complex
                topic: t
                filterPolicyFile: policies/complex.json
              - name: broken
                topic: t
                filterPolicyFile: policies/broken.json
              - name: missing
                topic: t
                filterPolicyFile: policies/missing.json
              - name: ok
                topic: t
                filterPolicyFile: policies/ok.json
            """
        let values = (1...10).map(String.init).joined(separator: ", ")
        let files = [
            "policies/complex.json": "{\"a\": [\(values)], \"b\": [\(values)], \"c\": [\(values)]}\n",
            "policies/broken.json": "{\n  \"a\": [\"x\"],\n  \"b\": [\"y\"\n}\n",
            "policies/ok.json": #"{"a": ["x"]}"#,
        ]
        let found = try configProblems(yaml, files: files)
        let complex = try #require(found.first { $0.file?.hasSuffix("policies/complex.json") == true })
        #expect(complex.line == 1)
        #expect(complex.message.hasPrefix("invalid filter policy: Filter policy is too complex"))
        #expect(complex.message.contains("subscriptions[0].filterPolicyFile at "))
        #expect(complex.message.contains("herald.yaml:10)"))
        let broken = try #require(found.first { $0.file?.hasSuffix("policies/broken.json") == true })
        #expect(broken.line == 4)
        #expect(broken.message.contains("failed to parse JSON."))
        #expect(found.at(16, "subscriptions[2].filterPolicyFile: '") != nil)
        #expect(found.at(16, "policies/missing.json': file not found") != nil)
        #expect(found.count == 3)
        // Policy-file problems sort under the config line that names the file.
        #expect(found.map { $0.file?.hasSuffix(".json") == true } == [true, true, false])
    }

    @Test func oversizedPolicyFileIsRefusedBeforeReading() throws {
        let yaml = minimalConfig + """
            limits:
              filterPolicy: {maxBytes: 64}
            autoCreateTopics: true
            subscriptions:
              - name: s
                topic: t
                filterPolicyFile: big.json
            """
        let big = "{\"a\": [\"" + String(repeating: "x", count: 100) + "\"]}"
        #expect(try configProblems(yaml, files: ["big.json": big]).at(12, "larger than 64 bytes (limits.filterPolicy.maxBytes)") != nil)
    }

    @Test func manyProblemsAreAllReportedInLineOrder() throws {
        let yaml = """
            version: 2
            listeners:
              - listen: nowhere
                tls: {cert: none.pem, key: server-key.pem}
            timeouts: {idle: soon}
            auth:
              anonymous: true
              users:
                - name: u
            topics: ["a b"]
            subscriptions:
              - name: s
                topic: zzz
                protocol: lambda
            """
        let found = try configProblems(yaml)
        #expect(found.map(\.line) == [1, 3, 4, 5, 9, 10, 13, 14])
        #expect(found.allSatisfy { $0.file?.hasSuffix("/herald.yaml") == true })
    }

    @Test func unreadableConfigFile() throws {
        let folder = try ConfigTempFolder()
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: folder.path + "/nope.yaml") }
        do {
            _ = try ConfigLoader.load(file: folder.path + "/nope.yaml")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems.first?.message == "file not found")
            #expect(error.problems.first?.line == nil)
        }
        try folder.write("binary.yaml", "")
        try Data([0x6C, 0x69, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: folder.path + "/binary.yaml"))
        do {
            _ = try ConfigLoader.load(file: folder.path + "/binary.yaml")
            Issue.record("non-UTF-8 file loaded")
        } catch {
            #expect(error.problems.first?.message == "the file is not UTF-8 text")
        }
    }
}
