import HeraldCore
import Yams

/// `dataDir:`, `durability:`, `signing:` / `signatureVersion:` and topics' `deduplication:`.
extension ConfigParse {
    /// Longest fsync interval: past it "interval" is "never" in all but name.
    static let fsyncIntervalRange = Duration.milliseconds(1)...Duration.seconds(60)

    func dataDir(_ node: Node) -> String? {
        guard let text = reader.string(node, path: "dataDir") else { return nil }
        guard !text.isEmpty else {
            reader.report("dataDir: must name a folder", at: node)
            return nil
        }
        return ConfigFiles.absolute(resolve(text))
    }

    /// `{fsync: always | never | interval, interval: 1s}`, or `{fsync: {interval: 200ms}}`.
    func durability(_ node: Node) -> HeraldConfig.Durability {
        var durability = HeraldConfig.Durability()
        guard let map = reader.mapping(node, path: "durability", keys: ["fsync", "interval"]) else { return durability }
        let interval = map["interval"].flatMap { reader.duration($0, path: map.child("interval"), range: Self.fsyncIntervalRange) }
        guard let fsyncNode = map["fsync"] else {
            if let node = map.keyNode("interval") {
                reader.report("durability.interval: applies only with fsync: interval", at: node)
            }
            return durability
        }
        if case .mapping = fsyncNode {
            guard let inner = reader.mapping(fsyncNode, path: map.child("fsync"), keys: ["interval"]),
                  let valueNode = inner.required("interval", reader),
                  let value = reader.duration(valueNode, path: inner.child("interval"), range: Self.fsyncIntervalRange)
            else { return durability }
            if let node = map.keyNode("interval") {
                reader.report("durability.interval: give the interval once (fsync: {interval: …} already sets it)", at: node)
            }
            durability.fsync = .interval(value)
            return durability
        }
        guard let word = reader.string(fsyncNode, path: map.child("fsync")) else { return durability }
        switch word {
        case "always", "never":
            durability.fsync = word == "always" ? .always : .never
            if let node = map.keyNode("interval") {
                reader.report("durability.interval: applies only with fsync: interval, not '\(word)'", at: node)
            }
        case "interval":
            durability.fsync = .interval(interval ?? HeraldConfig.FsyncSetting.defaultInterval)
        default:
            reader.report("durability.fsync: expected one of always, never, interval, found '\(word)'", at: fsyncNode)
        }
        return durability
    }

    /// `signing: {keyFile, certificateFile, signatureVersion}` and a top-level `signatureVersion`.
    func signing(_ node: Node?, topLevelVersion: Node?) -> (signing: HeraldConfig.Signing?, version: Int) {
        var version = 1
        var versionNode = topLevelVersion
        var versionPath = "signatureVersion"
        var signing: HeraldConfig.Signing?
        if let node, let map = reader.mapping(node, path: "signing", keys: ["keyFile", "certificateFile", "signatureVersion"]) {
            if let inner = map["signatureVersion"] {
                if topLevelVersion != nil {
                    reader.report("signing.signatureVersion: also given at top level; give it once", at: inner)
                }
                versionNode = inner
                versionPath = "signing.signatureVersion"
            }
            let key = map["keyFile"].flatMap { existingFile($0, path: map.child("keyFile")) }
            let certificate = map["certificateFile"].flatMap { existingFile($0, path: map.child("certificateFile")) }
            switch (map["keyFile"], map["certificateFile"]) {
            case (.some, nil):
                reader.report("signing: keyFile needs certificateFile (give both, or neither to let the server create them)", at: map.keyNode("keyFile"))
            case (nil, .some):
                reader.report("signing: certificateFile needs keyFile (give both, or neither to let the server create them)", at: map.keyNode("certificateFile"))
            default:
                if let key, let certificate { signing = HeraldConfig.Signing(keyFile: key, certificateFile: certificate) }
            }
        }
        if let versionNode {
            let path = versionPath
            if let text = reader.string(versionNode, path: path) {
                if text == "1" || text == "2", let value = Int(text) {
                    version = value
                } else {
                    reader.report("\(path): expected 1 (SHA1withRSA) or 2 (SHA256withRSA), found '\(text)'", at: versionNode)
                }
            }
        }
        return (signing, version)
    }

    /// A topic's `deduplication: {window: 5m, key: "attribute:NAME" | body}`.
    func topicDeduplication(_ node: Node, path: String, topic: String) -> HeraldConfig.TopicDeduplication? {
        guard let map = reader.mapping(node, path: path, keys: ["window", "key"]) else { return nil }
        if topic.hasSuffix(".fifo") {
            reader.report("\(path): FIFO topics deduplicate by SNS's rules (MessageDeduplicationId or content-based); idempotency keys are for standard topics", at: node)
            return nil
        }
        let window = map["window"].map {
            reader.duration($0, path: map.child("window"), range: .seconds(1)...HeraldConfig.TopicDeduplication.maxWindow)
        } ?? HeraldConfig.TopicDeduplication.defaultWindow
        var key: HeraldConfig.TopicDeduplication.Key?
        if let keyNode = map.required("key", reader), let text = reader.string(keyNode, path: map.child("key")) {
            if text == "body" {
                key = .body
            } else if text.hasPrefix("attribute:"), text.utf8.count > 10, text.utf8.count <= 266 {
                key = .attribute(String(text.dropFirst("attribute:".count)))
            } else {
                reader.report("\(map.child("key")): expected 'body' or 'attribute:NAME' (1 to 256 characters), found '\(text)'", at: keyNode)
            }
        }
        guard let window, let key else { return nil }
        return HeraldConfig.TopicDeduplication(window: window, key: key)
    }
}
