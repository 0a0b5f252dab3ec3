import HeraldCore
import Yams

/// Listeners, limits, timeouts and sessions.
extension ConfigParse {
    func listeners(_ node: Node) -> [HeraldConfig.Listener] {
        guard let items = reader.sequence(node, path: "listeners") else { return [] }
        if items.isEmpty { reader.report("listeners: at least one listener is required", at: node) }
        var result: [HeraldConfig.Listener] = []
        var addresses: [(name: String, node: Node)] = []
        var names: [(name: String, node: Node)] = []
        for (index, item) in items.enumerated() {
            let path = "listeners[\(index)]"
            guard let map = reader.mapping(item, path: path, keys: ["name", "listen", "tls"]) else { continue }
            var address: ListenAddress?
            if let listenNode = map.required("listen", reader), let text = reader.string(listenNode, path: map.child("listen")) {
                switch ListenAddress.parse(text) {
                case .success(let parsed):
                    address = parsed
                    addresses.append((parsed.description, listenNode))
                case .failure(let problem): reader.report("\(map.child("listen")): \(problem)", at: listenNode)
                }
            }
            let name = map["name"].flatMap { reader.string($0, path: map.child("name")) }
            let tls = map.required("tls", reader).flatMap { self.tls($0, path: map.child("tls")) }
            if let name, let nameNode = map["name"] { names.append((name, nameNode)) }
            if let address, let tls {
                result.append(HeraldConfig.Listener(name: name ?? address.description, address: address, tls: tls))
            }
        }
        reportDuplicates(addresses, what: "listen address")
        reportDuplicates(names, what: "listener name")
        return result
    }

    func tls(_ node: Node, path: String) -> HeraldConfig.TLS? {
        guard let map = reader.mapping(node, path: path, keys: ["cert", "key", "clientCA", "clientAuth"]) else { return nil }
        let cert = map.required("cert", reader).flatMap { existingFile($0, path: map.child("cert")) }
        let key = map.required("key", reader).flatMap { existingFile($0, path: map.child("key")) }
        let clientCA = map["clientCA"].flatMap { existingFile($0, path: map.child("clientCA")) }
        let clientAuth = map["clientAuth"].flatMap { reader.choice($0, path: map.child("clientAuth"), as: HeraldConfig.ClientAuth.self) } ?? .none
        if clientAuth != .none { anyListenerRequestsClientCertificates = true }
        if clientAuth != .none, map["clientCA"] == nil {
            reader.report("\(map.child("clientAuth")): '\(clientAuth.rawValue)' needs clientCA (the CA that signs client certificates)", at: map["clientAuth"] ?? node)
        }
        guard let cert, let key, map["clientCA"] == nil || clientCA != nil else { return nil }
        return HeraldConfig.TLS(certificateFile: cert, privateKeyFile: key, clientCAFile: clientCA, clientAuth: clientAuth)
    }

    /// The absolute path of a file named by `node`, or nil after reporting why it cannot be read.
    func existingFile(_ node: Node, path: String) -> String? {
        guard let text = reader.string(node, path: path) else { return nil }
        let shown = resolve(text)
        if let why = ConfigFiles.problemReading(shown) {
            reader.report("\(path): '\(shown)': \(why)", at: node)
            return nil
        }
        return ConfigFiles.absolute(shown)
    }

    func limits(_ node: Node) -> HeraldConfig.Limits {
        var limits = HeraldConfig.Limits()
        let keys = [
            "maxMessageBytes", "maxAttributes", "maxSubscriptionsPerConnection", "maxSubscriptionsPerTopic", "maxSubscriptions",
            "maxPendingMessagesPerSubscriber", "filterPolicy",
        ]
        guard let map = reader.mapping(node, path: "limits", keys: keys) else { return limits }
        let ranges = HeraldConfig.Limits.ranges
        if let value = map["maxMessageBytes"].flatMap({ reader.integer($0, path: map.child("maxMessageBytes"), range: ranges.messageBytes, bytes: true) }) {
            limits.message.maxMessageBytes = value
        }
        if let value = map["maxAttributes"].flatMap({ reader.integer($0, path: map.child("maxAttributes"), range: ranges.attributes) }) {
            limits.message.maxAttributes = value
        }
        if let value = map["maxSubscriptionsPerConnection"].flatMap({
            reader.integer($0, path: map.child("maxSubscriptionsPerConnection"), range: ranges.subscriptionsPerConnection)
        }) {
            limits.maxSubscriptionsPerConnection = value
        }
        if let value = map["maxSubscriptionsPerTopic"].flatMap({
            reader.integer($0, path: map.child("maxSubscriptionsPerTopic"), range: ranges.subscriptionsPerTopic)
        }) {
            limits.maxSubscriptionsPerTopic = value
        }
        if let value = map["maxSubscriptions"].flatMap({
            reader.integer($0, path: map.child("maxSubscriptions"), range: ranges.subscriptions)
        }) {
            limits.maxSubscriptions = value
        }
        if let value = map["maxPendingMessagesPerSubscriber"].flatMap({
            reader.integer($0, path: map.child("maxPendingMessagesPerSubscriber"), range: ranges.pendingMessagesPerSubscriber)
        }) {
            limits.maxPendingMessagesPerSubscriber = value
        }
        if let policyNode = map["filterPolicy"],
           let policy = reader.mapping(policyNode, path: map.child("filterPolicy"), keys: ["maxKeys", "maxCombinations", "maxBytes"]) {
            if let value = policy["maxKeys"].flatMap({ reader.integer($0, path: policy.child("maxKeys"), range: ranges.policyKeys) }) {
                limits.filterPolicy.maxKeys = value
            }
            if let value = policy["maxCombinations"].flatMap({ reader.integer($0, path: policy.child("maxCombinations"), range: ranges.policyCombinations) }) {
                limits.filterPolicy.maxCombinations = value
            }
            if let value = policy["maxBytes"].flatMap({ reader.integer($0, path: policy.child("maxBytes"), range: ranges.policyBytes, bytes: true) }) {
                limits.filterPolicy.maxPolicyBytes = value
            }
        }
        return limits
    }

    func timeouts(_ node: Node) -> HeraldConfig.Timeouts {
        var timeouts = HeraldConfig.Timeouts()
        guard let map = reader.mapping(node, path: "timeouts", keys: ["handshake", "idle", "heartbeat"]) else { return timeouts }
        let ranges = HeraldConfig.Timeouts.ranges
        if let value = map["handshake"].flatMap({ reader.duration($0, path: map.child("handshake"), range: ranges.handshake) }) {
            timeouts.handshake = value
        }
        if let value = map["idle"].flatMap({ reader.duration($0, path: map.child("idle"), range: ranges.idle) }) {
            timeouts.idle = value
        }
        if let value = map["heartbeat"].flatMap({ reader.duration($0, path: map.child("heartbeat"), range: ranges.heartbeat) }) {
            timeouts.heartbeat = value
        }
        if timeouts.idle != .zero, timeouts.heartbeat >= timeouts.idle {
            reader.report(
                "timeouts: heartbeat (\(ConfigValues.text(timeouts.heartbeat))) must be shorter than idle (\(ConfigValues.text(timeouts.idle))), or the idle timer closes healthy connections",
                at: map["heartbeat"] ?? map["idle"] ?? node)
        }
        return timeouts
    }

    func sessions(_ node: Node) -> HeraldConfig.Sessions {
        var sessions = HeraldConfig.Sessions()
        guard let map = reader.mapping(node, path: "sessions", keys: ["resumeWindow"]) else { return sessions }
        if let value = map["resumeWindow"].flatMap({ reader.duration($0, path: map.child("resumeWindow"), range: HeraldConfig.Sessions.resumeWindowRange) }) {
            sessions.resumeWindow = value
        }
        return sessions
    }
}

extension HeraldConfig.Limits {
    /// What the config file may set each limit to. SNS's values are the defaults; the upper ends
    /// bound the memory and CPU one client can claim.
    public struct Ranges: Sendable {
        public var messageBytes = 1...(16 << 20)
        public var attributes = 0...100
        public var subscriptionsPerConnection = 1...10_000
        public var subscriptionsPerTopic = 1...10_000_000
        public var subscriptions = 1...100_000_000
        public var pendingMessagesPerSubscriber = 1...1_000_000
        public var policyKeys = 1...50
        public var policyCombinations = 1...10_000
        public var policyBytes = 2...(1 << 20)
    }

    public static let ranges = Ranges()
}

extension HeraldConfig.Timeouts {
    public struct Ranges: Sendable {
        public var handshake: ClosedRange<Duration> = .milliseconds(100) ... .seconds(300)
        public var idle: ClosedRange<Duration> = .zero ... .seconds(86_400)
        public var heartbeat: ClosedRange<Duration> = .milliseconds(100) ... .seconds(3_600)
    }

    public static let ranges = Ranges()
}

extension HeraldConfig.Sessions {
    public static let resumeWindowRange: ClosedRange<Duration> = .zero ... .seconds(86_400)
}
