import HeraldCore
import Yams

/// One run of the loader over a composed document: builds each section, records every problem in
/// the reader, then checks what crosses sections (duplicates, references, reachability).
/// The section builders live in `ConfigParse+*.swift`.
final class ConfigParse {
    let reader: ConfigNodeReader
    /// The config file's folder, as the user would write it (for joining relative paths).
    let baseDirectory: String
    let environment: [String: String]
    /// Set while reading listeners, even from ones with other problems, so users with a
    /// `certificateCN` are not also blamed for a listener that failed for another reason.
    var anyListenerRequestsClientCertificates = false

    static let topLevelKeys = [
        "version", "listeners", "limits", "timeouts", "sessions", "auth", "autoCreateTopics", "topics",
        "subscriptions", "queues", "dataDir", "durability", "signing", "signatureVersion", "http",
        "httpDelivery", "aws",
        "consumers", "admin",
    ]

    init(reader: ConfigNodeReader, baseDirectory: String, environment: [String: String]) {
        self.reader = reader
        self.baseDirectory = baseDirectory
        self.environment = environment
    }

    /// The config, or nil when a section could not be built (the reader then holds why).
    func config(from root: Node) -> HeraldConfig? {
        guard let top = reader.mapping(root, path: "", keys: Self.topLevelKeys, ignoringExtensions: true) else { return nil }
        if let node = top["version"], let text = reader.string(node, path: "version"), text != "1" {
            reader.report("version: only version 1 is known, found '\(text)'", at: node)
        }
        // Limits first: filter policies are validated against them.
        let limits = top["limits"].map { self.limits($0) } ?? HeraldConfig.Limits()
        let listeners = top.required("listeners", reader).map { self.listeners($0) } ?? []
        let timeouts = top["timeouts"].map { self.timeouts($0) } ?? HeraldConfig.Timeouts()
        let sessions = top["sessions"].map { self.sessions($0) } ?? HeraldConfig.Sessions()
        let autoCreate = top["autoCreateTopics"].flatMap { reader.bool($0, path: "autoCreateTopics") } ?? false
        let auth = top["auth"].map { self.auth($0, key: top.keyNode("auth")) } ?? HeraldConfig.Auth()
        if top["auth"] == nil {
            reader.report("top level: missing required key 'auth': with no users and no anonymous access nobody could connect", at: root)
        }
        let topics = top["topics"].map { self.topics($0) } ?? []
        let (queues, declaredQueues) = top["queues"].map { self.queues($0) } ?? ([], [])
        let subscriptions = top["subscriptions"].map {
            self.subscriptions(
                $0, topics: Set(topics.map(\.name)), queues: declaredQueues, autoCreateTopics: autoCreate, limits: limits.filterPolicy)
        } ?? []
        var config = HeraldConfig(
            listeners: listeners, limits: limits, timeouts: timeouts, sessions: sessions, auth: auth,
            autoCreateTopics: autoCreate, topics: topics, subscriptions: subscriptions
        )
        config.queues = queues
        config.dataDir = top["dataDir"].flatMap { self.dataDir($0) }
        config.durability = top["durability"].map { self.durability($0) } ?? HeraldConfig.Durability()
        (config.signing, config.signatureVersion) = signing(top["signing"], topLevelVersion: top["signatureVersion"])
        config.http = top["http"].flatMap { self.httpAPI($0) }
        config.admin = top["admin"].flatMap { self.admin($0) }
        config.httpDelivery = top["httpDelivery"].map { self.httpDelivery($0) } ?? HeraldConfig.HTTPDelivery()
        config.aws = top["aws"].map { self.awsIdentity($0) } ?? HeraldConfig.AWSIdentity()
        config.consumers = top["consumers"].map { self.consumers($0, queues: queues, declared: declaredQueues) } ?? []
        return config
    }

    /// Reports each name seen before, at the later occurrence.
    func reportDuplicates(_ items: [(name: String, node: Node)], what: String) {
        var firstLine: [String: Int?] = [:]
        for item in items {
            if let line = firstLine[item.name] {
                let seen = line.map { " (first at line \($0))" } ?? ""
                reader.report("duplicate \(what) '\(item.name)'\(seen)", at: item.node)
            } else {
                firstLine[item.name] = item.node.mark?.line
            }
        }
    }

    /// A path from the file resolved for display/opening: joined to the config file's folder.
    func resolve(_ path: String) -> String {
        ConfigFiles.join(baseDirectory, path)
    }
}
