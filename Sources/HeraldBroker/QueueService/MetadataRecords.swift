import HeraldCore

/// The metadata values the broker keeps in the `MetaStore` (JSON, so `herald store export` and
/// humans can read them). Keys: `queue/<name>`, `subscription/<name>`, `topic/<name>`.
struct QueueRecord: Hashable {
    var id: UInt32
    var name: String
    /// SQS attribute names and values (`QueueAttributes.sqsAttributes`).
    var attributes: [String: String]
    var createdAtMillis: Int64

    static func key(_ name: String) -> String { "queue/\(name)" }
    static let prefix = "queue/"

    func encoded() -> [UInt8] {
        let attributes = StringMapJSON.encode(self.attributes)
        var out: [UInt8] = []
        JSONValue.object([
            .init(key: "id", value: .number(String(id))), .init(key: "name", value: .string(name)),
            .init(key: "attributes", value: attributes), .init(key: "createdAt", value: .number(String(createdAtMillis))),
        ]).write(to: &out)
        return out
    }

    init(id: UInt32, name: String, attributes: [String: String], createdAtMillis: Int64) {
        self.id = id
        self.name = name
        self.attributes = attributes
        self.createdAtMillis = createdAtMillis
    }

    /// nil when the bytes are not a queue record (a newer format, damage): the caller reports it.
    init?(decoding bytes: [UInt8]) {
        guard let json = try? JSONParser.parse(bytes, limits: .init(maxDepth: 8)),
              case .number(let idText)? = json["id"], let id = UInt32(idText),
              case .string(let name)? = json["name"],
              case .object(let members)? = json["attributes"],
              case .number(let createdText)? = json["createdAt"], let created = Int64(createdText)
        else { return nil }
        guard let attributes = StringMapJSON.decode(members) else { return nil }
        self.init(id: id, name: name, attributes: attributes, createdAtMillis: created)
    }
}

/// A topic subscription created at run time (config-declared ones live in the config file).
public struct SubscriptionRecord: Hashable, Sendable {
    /// Where an HTTP/S subscription is in SNS's confirmation handshake (queue subscriptions are
    /// always `confirmed`).
    public enum Status: String, Sendable, Hashable {
        /// Delivering.
        case confirmed
        /// Waiting for the endpoint to visit its SubscribeURL (nothing is delivered).
        case pending
        /// Unsubscribed; kept while its UnsubscribeConfirmation's token can restore it.
        case unsubscribed
    }

    public var name: String
    public var topic: String
    /// `sqs`, `http` or `https`.
    public var `protocol`: String
    /// The queue name (sqs) or the URL (http/https).
    public var endpoint: String
    public var filterPolicy: String?
    public var filterPolicyScope: String?
    public var raw: Bool
    /// SNS `DeliveryPolicy` and `RedrivePolicy` JSON texts, as given (HTTP/S).
    public var deliveryPolicy: String?
    public var redrivePolicy: String?
    public var status: Status = .confirmed
    /// The confirmation token of a pending (or unsubscribed) subscription, and when it expires.
    public var token: String?
    public var tokenExpiresAtMillis: Int64?

    public init(name: String, topic: String, protocol: String, endpoint: String, filterPolicy: String?, filterPolicyScope: String?, raw: Bool) {
        self.name = name
        self.topic = topic
        self.protocol = `protocol`
        self.endpoint = endpoint
        self.filterPolicy = filterPolicy
        self.filterPolicyScope = filterPolicyScope
        self.raw = raw
    }

    public static func key(_ name: String) -> String { "subscription/\(name)" }
    public static let prefix = "subscription/"

    public func encoded() -> [UInt8] {
        var members: [JSONValue.Member] = [
            .init(key: "name", value: .string(name)), .init(key: "topic", value: .string(topic)),
            .init(key: "protocol", value: .string(`protocol`)), .init(key: "endpoint", value: .string(endpoint)),
            .init(key: "raw", value: .bool(raw)),
        ]
        if let filterPolicy { members.append(.init(key: "filterPolicy", value: .string(filterPolicy))) }
        if let filterPolicyScope { members.append(.init(key: "filterPolicyScope", value: .string(filterPolicyScope))) }
        if let deliveryPolicy { members.append(.init(key: "deliveryPolicy", value: .string(deliveryPolicy))) }
        if let redrivePolicy { members.append(.init(key: "redrivePolicy", value: .string(redrivePolicy))) }
        if status != .confirmed { members.append(.init(key: "status", value: .string(status.rawValue))) }
        if let token { members.append(.init(key: "token", value: .string(token))) }
        if let tokenExpiresAtMillis { members.append(.init(key: "tokenExpiresAt", value: .number(String(tokenExpiresAtMillis)))) }
        var out: [UInt8] = []
        JSONValue.object(members).write(to: &out)
        return out
    }

    public init?(decoding bytes: [UInt8]) {
        guard let json = try? JSONParser.parse(bytes, limits: .init(maxDepth: 8)),
              case .string(let name)? = json["name"], case .string(let topic)? = json["topic"],
              case .string(let proto)? = json["protocol"], case .string(let endpoint)? = json["endpoint"],
              case .bool(let raw)? = json["raw"]
        else { return nil }
        func text(_ key: String) -> String? {
            if case .string(let value)? = json[key] { return value }
            return nil
        }
        self.init(
            name: name, topic: topic, protocol: proto, endpoint: endpoint, filterPolicy: text("filterPolicy"),
            filterPolicyScope: text("filterPolicyScope"), raw: raw)
        deliveryPolicy = text("deliveryPolicy")
        redrivePolicy = text("redrivePolicy")
        if let status = text("status") {
            guard let known = Status(rawValue: status) else { return nil }
            self.status = known
        }
        token = text("token")
        if case .number(let expires)? = json["tokenExpiresAt"] { tokenExpiresAtMillis = Int64(expires) }
    }
}

/// A topic created at run time through the SNS API (config-declared ones live in the config
/// file; auto-created ones are not recorded: they come back on their next publish or subscribe).
/// `attributes` are SNS topic attribute names and values as CreateTopic / SetTopicAttributes
/// stored them (FifoTopic, ContentBasedDeduplication, DisplayName, DeliveryPolicy, Policy, …).
public struct TopicRecord: Hashable, Sendable {
    public var name: String
    public var attributes: [String: String]
    public var createdAtMillis: Int64

    public init(name: String, attributes: [String: String], createdAtMillis: Int64) {
        self.name = name
        self.attributes = attributes
        self.createdAtMillis = createdAtMillis
    }

    public static func key(_ name: String) -> String { "topic/\(name)" }
    public static let prefix = "topic/"

    public func encoded() -> [UInt8] {
        let attributes = StringMapJSON.encode(self.attributes)
        var out: [UInt8] = []
        JSONValue.object([
            .init(key: "name", value: .string(name)), .init(key: "attributes", value: attributes),
            .init(key: "createdAt", value: .number(String(createdAtMillis))),
        ]).write(to: &out)
        return out
    }

    /// nil when the bytes are not a topic record (a newer format, damage): the caller reports it.
    public init?(decoding bytes: [UInt8]) {
        guard let json = try? JSONParser.parse(bytes, limits: .init(maxDepth: 8)),
              case .string(let name)? = json["name"],
              case .object(let members)? = json["attributes"],
              case .number(let createdText)? = json["createdAt"], let created = Int64(createdText)
        else { return nil }
        guard let attributes = StringMapJSON.decode(members) else { return nil }
        self.init(name: name, attributes: attributes, createdAtMillis: created)
    }
}

/// The `attributes` object of queue and topic records: string names to string values, written in
/// name order so equal maps encode to equal bytes.
enum StringMapJSON {
    static func encode(_ map: [String: String]) -> JSONValue {
        .object(map.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) })
    }

    /// nil when a value is not a string.
    static func decode(_ members: [JSONValue.Member]) -> [String: String]? {
        var map: [String: String] = [:]
        for member in members {
            guard case .string(let value) = member.value else { return nil }
            map[member.key] = value
        }
        return map
    }
}
