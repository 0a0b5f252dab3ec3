import Foundation
import HeraldCore
import HeraldTestSupport
import Testing
@testable import HeraldConfig

/// Hostile or broken input never crashes or hangs the loader: it yields a config or problems.
@Suite struct ConfigFuzzTests {
    /// A small deterministic generator so failures reproduce.
    static func exampleText() throws -> String {
        let repository = URL(fileURLWithPath: TestPaths.repository)
        return try String(contentsOf: repository.appendingPathComponent("examples/herald.yaml"), encoding: .utf8)
    }

    /// Loads text in a folder with the example's policy files and placeholder certs; returns
    /// whether it produced a config, and checks problems are well-formed when it did not.
    static func loadSurvives(_ text: String, folder: ConfigTempFolder) -> Bool {
        do {
            _ = try ConfigLoader.load(yaml: text, file: "fuzz.yaml", baseDirectory: folder.path + "/examples")
            return true
        } catch {
            #expect(!error.problems.isEmpty)
            #expect(error.problems.allSatisfy { ($0.line ?? 1) >= 1 })
            return false
        }
    }

    static func exampleFolder() throws -> ConfigTempFolder {
        let folder = try ConfigTempFolder()
        let repository = URL(fileURLWithPath: TestPaths.repository)
        try FileManager.default.copyItem(atPath: repository.appendingPathComponent("examples").path, toPath: folder.path + "/examples")
        try folder.writeCertificates(in: "certs")
        return folder
    }

    @Test func everyTruncationOfTheExample() throws {
        let text = try Self.exampleText()
        let folder = try Self.exampleFolder()
        #expect(Self.loadSurvives(text, folder: folder), "the full example loads")
        let bytes = Array(text.utf8)
        var loaded = 0
        for length in stride(from: 0, to: bytes.count, by: 7) {
            if Self.loadSurvives(String(decoding: bytes[..<length], as: UTF8.self), folder: folder) { loaded += 1 }
        }
        // Most prefixes lack sections or cut a value; the loader must still answer every time.
        #expect(loaded < bytes.count / 7)
    }

    @Test func randomBytes() throws {
        let folder = try Self.exampleFolder()
        var random = SplitMix64(seed: 42)
        let alphabet = Array(":-[]{}\"' \n\t#&*!|>%@`,?abc123.~\\".utf8)
        for round in 0..<300 {
            let length = Int.random(in: 0...200, using: &random)
            let bytes = (0..<length).map { _ in
                round.isMultiple(of: 2) ? UInt8.random(in: 0...255, using: &random) : alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
            }
            _ = Self.loadSurvives(String(decoding: bytes, as: UTF8.self), folder: folder)
        }
    }

    @Test func mutationsOfTheExample() throws {
        let folder = try Self.exampleFolder()
        var random = SplitMix64(seed: 7)
        let original = Array(try Self.exampleText().utf8)
        let noise = Array(":-[]{}\"' \n#&*!|>0x".utf8)
        for _ in 0..<200 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] = noise[Int.random(in: 0..<noise.count, using: &random)]
                case 1: bytes.remove(at: at)
                default: bytes.insert(noise[Int.random(in: 0..<noise.count, using: &random)], at: at)
                }
            }
            _ = Self.loadSurvives(String(decoding: bytes, as: UTF8.self), folder: folder)
        }
    }

    @Test func deepNestingIsRejectedNotACrash() throws {
        let folder = try Self.exampleFolder()
        let deep = "topics: " + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        #expect(!Self.loadSurvives(deep, folder: folder))
        let deepPolicy = minimalConfig + "autoCreateTopics: true\nsubscriptions:\n  - name: s\n    topic: t\n    filterPolicy: "
            + String(repeating: "{a: ", count: 900) + "[1]" + String(repeating: "}", count: 900) + "\n"
        #expect(!Self.loadSurvives(deepPolicy, folder: folder))
    }

    @Test func aliasExpansionInAPolicyIsBounded() throws {
        // Each level doubles the size: 2^40 leaves if expanded naively.
        var yaml = minimalConfig + "autoCreateTopics: true\nx0: &a0 [1, 1]\n"
        for level in 1...40 { yaml += "x\(level): &a\(level) [*a\(level - 1), *a\(level - 1)]\n" }
        // The anchors sit under unknown keys, so also expect those problems; what matters is that
        // the policy conversion stops at the size limit.
        yaml += "subscriptions:\n  - name: s\n    topic: t\n    filterPolicy: {k: *a40}\n"
        let folder = try Self.exampleFolder()
        let start = ContinuousClock.now
        do {
            _ = try ConfigLoader.load(yaml: yaml, file: "bomb.yaml", baseDirectory: folder.path)
            Issue.record("alias bomb loaded")
        } catch {
            #expect(error.problems.contains { $0.message.contains("larger than 262144 bytes") })
        }
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test(arguments: [
        "m:\n  ? *a29\n  : 1\n",
        "m:\n  *a29 : 1\n",
        "m: {*a29: 1, *a28: 2}\n",
        "m: [*a29: 1]\n",
        "m: {? [*a29, *a28] : 1}\n",
        "m:\n  ?\n    - *a29\n  : 1\n",
    ])
    func aliasKeysAreRefusedBeforeComposing(keys: String) throws {
        var yaml = "a0: &a0 [1, 1]\n"
        for level in 1...29 { yaml += "a\(level): &a\(level) [*a\(level - 1), *a\(level - 1)]\n" }
        yaml += keys
        let start = ContinuousClock.now
        do {
            _ = try ConfigLoader.load(yaml: yaml, file: "keys.yaml", baseDirectory: "/")
            Issue.record("loaded")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems.first?.line ?? 0 > 30)
            #expect(error.problems.first.map { $0.message.contains("alias") || $0.message.contains("complex mapping keys") } == true)
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func aliasesAsValuesStillWork() throws {
        let yaml = """
            listeners:
              - listen: 127.0.0.1:4433
                tls: {cert: server.pem, key: server-key.pem}
            auth:
              users:
                - name: a
                  token: "t*1: x"   # a '*' inside quotes is text
                  publish: &shared [orders, "audit-*"]
                  subscribe: ["*"]
                - name: b
                  token: 'it''s *b: not an alias'
                  publish: *shared
                  subscribe: *shared
            """
        let config = try #require(try validConfig(yaml))
        #expect(config.auth.users.map(\.permissions.publish) == [config.auth.users[0].permissions.publish, config.auth.users[0].permissions.publish])
        #expect(config.auth.users[1].permissions.allows(.subscribe, topic: "audit-1"))
        #expect(ConfigYAMLGuard.refusal(in: "a: b *c: d\nq: what? yes\n# ? *x : y\n") == nil)
    }
}
