import FilterPolicy
import Foundation
import HeraldCore
import HeraldTestSupport
import Testing
@testable import HeraldConfig

@Suite struct ConfigLoaderTests {
    @Test func loadsAFullConfig() throws {
        let yaml = """
            version: 1
            listeners:
              - name: public
                listen: 0.0.0.0:4433
                tls:
                  cert: certs/server.pem
                  key: certs/server-key.pem
                  clientCA: certs/ca.pem
                  clientAuth: required
              - listen: "[::1]:0"
                tls: {cert: certs/server.pem, key: certs/server-key.pem}
            limits:
              maxMessageBytes: 1MiB
              maxAttributes: 20
              maxSubscriptionsPerConnection: 50
              maxSubscriptionsPerTopic: 2000
              maxSubscriptions: 30000
              maxPendingMessagesPerSubscriber: 1_000
              filterPolicy: {maxKeys: 8, maxCombinations: 500, maxBytes: 64KiB}
            timeouts: {handshake: 5s, idle: 1h30m, heartbeat: 500ms}
            sessions: {resumeWindow: 2m}
            auth:
              anonymous:
                subscribe: ["public*"]
              users:
                - name: checkout
                  tokenEnv: CHECKOUT_TOKEN
                  publish: [orders, "orders-*"]
                - name: warehouse
                  certificateCN: warehouse.internal
                  subscribe: "*"
            autoCreateTopics: false
            topics:
              - orders
              - name: orders-eu.fifo
            subscriptions:
              - name: eu
                topic: orders
                protocol: stream
                filterPolicy:
                  region: [eu-west-1]
                  amount: [{numeric: [">=", 100]}]
              - name: big
                topic: orders
                filterPolicyScope: MessageBody
                filterPolicyFile: policies/big.json
                rawMessageDelivery: true
              - name: all
                topic: orders-eu.fifo
            """
        let bigPolicy = #"{"order": {"total": [{"numeric": [">", 1000]}]}}"#
        let folder = try ConfigTempFolder()
        try folder.writeCertificates(in: "certs")
        try folder.write("policies/big.json", bigPolicy)
        let file = try folder.write("herald.yaml", yaml)
        let config = try ConfigLoader.load(file: file, environment: ["CHECKOUT_TOKEN": "s3cret"])

        #expect(config.sourceFile == file)
        #expect(config.listeners.count == 2)
        let listener = try #require(config.listeners.first)
        #expect(listener.name == "public")
        #expect(listener.address == ListenAddress(host: "0.0.0.0", port: 4433))
        #expect(listener.tls.clientAuth == .required)
        #expect(listener.tls.certificateFile == folder.path + "/certs/server.pem")
        #expect(listener.tls.clientCAFile == folder.path + "/certs/ca.pem")
        #expect(config.listeners[1].address == ListenAddress(host: "::1", port: 0))
        #expect(config.listeners[1].name == "[::1]:0")
        #expect(config.listeners[1].tls.clientAuth == .none)

        #expect(config.limits.message.maxMessageBytes == 1 << 20)
        #expect(config.limits.message.maxAttributes == 20)
        #expect(config.limits.maxSubscriptionsPerConnection == 50)
        #expect(config.limits.maxSubscriptionsPerTopic == 2_000)
        #expect(config.limits.maxSubscriptions == 30_000)
        #expect(config.limits.maxPendingMessagesPerSubscriber == 1_000)
        #expect(config.limits.filterPolicy.maxKeys == 8)
        #expect(config.limits.filterPolicy.maxCombinations == 500)
        #expect(config.limits.filterPolicy.maxPolicyBytes == 64 * 1024)
        #expect(config.timeouts == HeraldConfig.Timeouts(handshake: .seconds(5), idle: .seconds(5_400), heartbeat: .milliseconds(500)))
        #expect(config.sessions.resumeWindow == .seconds(120))

        #expect(config.auth.allowAnonymous)
        #expect(config.auth.anonymousPermissions.allows(.subscribe, topic: "public-news"))
        #expect(!config.auth.anonymousPermissions.allows(.publish, topic: "public-news"))
        let checkout = try #require(config.auth.user(token: "s3cret"))
        #expect(checkout.name == "checkout")
        #expect(checkout.tokenEnvironmentVariable == "CHECKOUT_TOKEN")
        #expect(checkout.permissions.allows(.publish, topic: "orders-eu"))
        #expect(!checkout.permissions.allows(.subscribe, topic: "orders"))
        let warehouse = try #require(config.auth.user(certificateCommonName: "warehouse.internal"))
        #expect(warehouse.permissions.allows(.subscribe, topic: "anything"))
        #expect(warehouse.token == nil)

        #expect(!config.autoCreateTopics)
        #expect(config.topics.map(\.name) == ["orders", "orders-eu.fifo"])
        #expect(config.topic(named: "orders-eu.fifo")?.isFIFO == true)

        #expect(config.subscriptions.map(\.name) == ["eu", "big", "all"])
        let eu = config.subscriptions[0]
        #expect(eu.protocol == .stream)
        #expect(eu.filterPolicy == (try FilterPolicy.parse(#"{"region":["eu-west-1"],"amount":[{"numeric":[">=",100]}]}"#)))
        #expect(eu.filterPolicyFile == nil)
        let big = config.subscriptions[1]
        #expect(big.filterPolicy?.scope == .messageBody)
        #expect(big.filterPolicy == (try FilterPolicy.parse(bigPolicy, scope: .messageBody)))
        #expect(big.filterPolicyText == bigPolicy)
        #expect(big.filterPolicyFile == folder.path + "/policies/big.json")
        #expect(big.rawMessageDelivery)
        #expect(config.subscriptions[2].filterPolicy == nil)
        #expect(config.subscriptions(ofTopic: "orders").count == 2)
    }

    @Test func defaultsApplyWhenSectionsAreLeftOut() throws {
        let config = try #require(try validConfig(minimalConfig))
        #expect(config.limits == HeraldConfig.Limits())
        #expect(config.limits.message == .sns)
        #expect(config.limits.filterPolicy == .sns)
        #expect(config.timeouts == HeraldConfig.Timeouts())
        #expect(config.sessions == HeraldConfig.Sessions())
        #expect(config.auth.allowAnonymous)
        #expect(config.auth.anonymousPermissions == .all)
        #expect(!config.autoCreateTopics)
        #expect(config.topics.isEmpty && config.subscriptions.isEmpty)
    }

    @Test func jsonConfigFilesWork() throws {
        let json = """
            {"listeners": [{"listen": "127.0.0.1:4433", "tls": {"cert": "server.pem", "key": "server-key.pem"}}],
             "auth": {"anonymous": true}, "topics": ["orders"],
             "subscriptions": [{"name": "s", "topic": "orders", "filterPolicy": {"a": ["b"]}}]}
            """
        let config = try #require(try validConfig(json))
        #expect(config.subscriptions.first?.filterPolicy == (try FilterPolicy.parse(#"{"a":["b"]}"#)))
    }

    @Test func inlinePolicyScalarsAreTypedLikeJSON() throws {
        let yaml = minimalConfig + """
            autoCreateTopics: true
            subscriptions:
              - name: typed
                topic: t
                filterPolicyScope: MessageBody
                filterPolicy:
                  n: [1, 2.5, -3e2]
                  s: ["1", yes, "true"]
                  b: [true, false, null]
            """
        let config = try #require(try validConfig(yaml))
        let expected = try FilterPolicy.parse(#"{"n":[1,2.5,-3e2],"s":["1","yes","true"],"b":[true,false,null]}"#, scope: .messageBody)
        #expect(config.subscriptions.first?.filterPolicy == expected)
    }

    @Test func theExampleConfigIsValid() throws {
        // examples/herald.yaml names ../certs/…; give it placeholder certs beside a copy.
        let repository = URL(fileURLWithPath: TestPaths.repository)
        let folder = try ConfigTempFolder()
        try FileManager.default.copyItem(atPath: repository.appendingPathComponent("examples").path, toPath: folder.path + "/examples")
        try folder.writeCertificates(in: "certs")
        let config = try ConfigLoader.load(file: folder.path + "/examples/herald.yaml", environment: [:])
        #expect(config.listeners.count == 1)
        #expect(config.topics.count == 3)
        #expect(config.subscriptions.count == 6)
        #expect(config.auth.users.count == 4)
        #expect(config.subscriptions.filter { $0.filterPolicy != nil }.count == 5)
        #expect(config.subscriptions.contains { $0.filterPolicy?.scope == .messageBody })
        #expect(config.subscriptions.contains { $0.filterPolicy.map { $0.branches.count > 1 } ?? false }, "the $or example")
    }

    @Test func theAnnotatedExampleInTheDocsIsValid() throws {
        let repository = URL(fileURLWithPath: TestPaths.repository)
        let doc = try String(contentsOf: repository.appendingPathComponent("docs/CONFIG.md"), encoding: .utf8)
        let section = try #require(doc.range(of: "## Annotated example"))
        let fence = try #require(doc.range(of: "```yaml\n", range: section.upperBound..<doc.endIndex))
        let end = try #require(doc.range(of: "```", range: fence.upperBound..<doc.endIndex))
        let folder = try ConfigTempFolder()
        try FileManager.default.copyItem(atPath: repository.appendingPathComponent("examples").path, toPath: folder.path + "/examples")
        try folder.writeCertificates(in: "certs")
        let file = try folder.write("examples/annotated.yaml", String(doc[fence.upperBound..<end.lowerBound]))
        let config = try ConfigLoader.load(file: file, environment: ["HERALD_BATCH_TOKEN": "batch-token"])
        #expect(config.summary == "ok: 1 listener, 3 topics, 2 queues, 5 subscriptions, 3 users")
        #expect(config.auth.user(token: "batch-token")?.name == "batch")
        #expect(config.queue(named: "refunds")?.deadLetter == HeraldConfig.DeadLetter(queue: "refunds-dlq", maxReceiveCount: 5))
        #expect(config.subscriptions.last?.queue == "refunds")
        #expect(config.topic(named: "payments")?.deduplication?.key == .attribute("request-id"))
        #expect(config.dataDir?.hasSuffix("/data") == true)
    }
}

// MARK: - Helpers shared by the Config*Tests suites
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
        for name in ["server.pem", "server-key.pem", "ca.pem", "dev-server.pem", "dev-server-key.pem", "dev-ca.pem"] {
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
func configProblems(_ yaml: String, files: [String: String] = [:], environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> [ConfigProblem] {
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
