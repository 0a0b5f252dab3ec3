import HeraldCore

// JSON mapping of the INFO, CONNECT and CONNOK lines. Keys are snake_case; unknown keys are ignored so
// either side can add fields without breaking the other; `proto` is required where it appears.

extension ServerInfo {
    var json: JSONValue {
        .object([
            .init(key: "server", value: .string(serverName)),
            .init(key: "version", value: .string(version)),
            .init(key: "proto", value: .number(String(protocolVersion))),
            .init(key: "max_line", value: .number(String(limits.maxControlLineBytes))),
            .init(key: "max_payload", value: .number(String(limits.maxPayloadBytes))),
            .init(key: "max_attributes_bytes", value: .number(String(limits.maxAttributesBytes))),
            .init(key: "max_policy", value: .number(String(limits.maxPolicyBytes))),
            .init(key: "max_queue_request", value: .number(String(limits.maxQueueRequest))),
            .init(key: "max_message", value: .number(String(maxMessageBytes))),
            .init(key: "max_attributes", value: .number(String(maxAttributes))),
            .init(key: "max_subscriptions", value: .number(String(maxSubscriptions))),
            .init(key: "heartbeat_ms", value: .number(String(heartbeatIntervalMilliseconds))),
        ])
    }

    init(json: JSONValue) throws(WireError) {
        var info = ServerInfo(serverName: try json.optionalString("server") ?? "", version: try json.optionalString("version") ?? "")
        info.protocolVersion = try json.requiredInt("proto")
        info.limits.maxControlLineBytes = try json.optionalInt("max_line") ?? info.limits.maxControlLineBytes
        info.limits.maxPayloadBytes = try json.optionalInt("max_payload") ?? info.limits.maxPayloadBytes
        info.limits.maxAttributesBytes = try json.optionalInt("max_attributes_bytes") ?? info.limits.maxAttributesBytes
        info.limits.maxPolicyBytes = try json.optionalInt("max_policy") ?? info.limits.maxPolicyBytes
        info.limits.maxQueueRequest = try json.optionalInt("max_queue_request") ?? info.limits.maxQueueRequest
        info.maxMessageBytes = try json.optionalInt("max_message") ?? info.maxMessageBytes
        info.maxAttributes = try json.optionalInt("max_attributes") ?? info.maxAttributes
        info.maxSubscriptions = try json.optionalInt("max_subscriptions") ?? info.maxSubscriptions
        info.heartbeatIntervalMilliseconds = try json.optionalInt("heartbeat_ms") ?? info.heartbeatIntervalMilliseconds
        self = info
    }
}

extension ConnectOptions {
    var json: JSONValue {
        var members: [JSONValue.Member] = [.init(key: "proto", value: .number(String(protocolVersion)))]
        if let token { members.append(.init(key: "token", value: .string(token))) }
        if let clientName { members.append(.init(key: "name", value: .string(clientName))) }
        if let session { members.append(.init(key: "session", value: .string(session))) }
        return .object(members)
    }

    init(json: JSONValue) throws(WireError) {
        self.init(
            protocolVersion: try json.requiredInt("proto"),
            token: try json.optionalString("token"),
            clientName: try json.optionalString("name"),
            session: try json.optionalString("session")
        )
    }
}

extension ConnectAccepted {
    var json: JSONValue {
        .object([.init(key: "session", value: .string(session)), .init(key: "resumed", value: .bool(resumed))])
    }

    init(json: JSONValue) throws(WireError) {
        guard let session = try json.optionalString("session") else {
            throw WireError(.invalidJSON, "CONNOK lacks \"session\"")
        }
        var resumed = false
        if let value = json["resumed"] {
            guard case .bool(let flag) = value else { throw WireError(.invalidJSON, "\"resumed\" must be true or false") }
            resumed = flag
        }
        self.init(session: session, resumed: resumed)
    }
}

extension JSONValue {
    /// Parses the JSON object of a handshake line.
    static func handshakeObject(_ bytes: UnsafeBufferPointer<UInt8>, verb: String) throws(WireError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, limits: JSONParser.Limits(maxDepth: 8))
        } catch {
            throw WireError(.invalidJSON, "\(verb) JSON is invalid: \(error.description)")
        }
        guard case .object = value else { throw WireError(.invalidJSON, "\(verb) JSON must be an object") }
        return value
    }

    func optionalString(_ key: String) throws(WireError) -> String? {
        guard let value = self[key], value != .null else { return nil }
        guard case .string(let text) = value else { throw WireError(.invalidJSON, "\"\(key)\" must be a string") }
        return text
    }

    func optionalInt(_ key: String) throws(WireError) -> Int? {
        guard let value = self[key], value != .null else { return nil }
        guard case .number(let text) = value, let number = Int(text), number >= 0 else {
            throw WireError(.invalidJSON, "\"\(key)\" must be a non-negative integer")
        }
        return number
    }

    func requiredInt(_ key: String) throws(WireError) -> Int {
        guard let number = try optionalInt(key) else { throw WireError(.invalidJSON, "missing \"\(key)\"") }
        return number
    }
}
