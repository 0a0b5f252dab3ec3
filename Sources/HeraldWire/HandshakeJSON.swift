import HeraldCore

// JSON mapping of the INFO, CONNECT and CONNOK lines. Keys are snake_case; unknown keys are ignored so
// either side can add fields without breaking the other; `proto` is required where it appears.

extension ServerInfo {
    var json: JSONValue {
        .object([
            ("server", .string(serverName)),
            ("version", .string(version)),
            ("proto", .number(String(protocolVersion))),
            ("max_line", .number(String(limits.maxControlLineBytes))),
            ("max_payload", .number(String(limits.maxPayloadBytes))),
            ("max_attributes_bytes", .number(String(limits.maxAttributesBytes))),
            ("max_policy", .number(String(limits.maxPolicyBytes))),
            ("max_message", .number(String(maxMessageBytes))),
            ("max_attributes", .number(String(maxAttributes))),
            ("max_subscriptions", .number(String(maxSubscriptions))),
            ("heartbeat_ms", .number(String(heartbeatIntervalMilliseconds))),
        ])
    }

    init(json: JSONValue) throws(WireError) {
        var info = ServerInfo(serverName: try json.optionalString("server") ?? "", version: try json.optionalString("version") ?? "")
        info.protocolVersion = try json.requiredInt("proto")
        info.limits.maxControlLineBytes = try json.optionalInt("max_line") ?? info.limits.maxControlLineBytes
        info.limits.maxPayloadBytes = try json.optionalInt("max_payload") ?? info.limits.maxPayloadBytes
        info.limits.maxAttributesBytes = try json.optionalInt("max_attributes_bytes") ?? info.limits.maxAttributesBytes
        info.limits.maxPolicyBytes = try json.optionalInt("max_policy") ?? info.limits.maxPolicyBytes
        info.maxMessageBytes = try json.optionalInt("max_message") ?? info.maxMessageBytes
        info.maxAttributes = try json.optionalInt("max_attributes") ?? info.maxAttributes
        info.maxSubscriptions = try json.optionalInt("max_subscriptions") ?? info.maxSubscriptions
        info.heartbeatIntervalMilliseconds = try json.optionalInt("heartbeat_ms") ?? info.heartbeatIntervalMilliseconds
        self = info
    }
}

extension ConnectOptions {
    var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("proto", .number(String(protocolVersion)))]
        if let token { members.append(("token", .string(token))) }
        if let clientName { members.append(("name", .string(clientName))) }
        if let session { members.append(("session", .string(session))) }
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
        .object([("session", .string(session)), ("resumed", .bool(resumed))])
    }

    init(json: JSONValue) throws(WireError) {
        guard let session = try json.optionalString("session") else {
            throw WireError(.invalidJSON, "CONNOK lacks \"session\"")
        }
        var resumed = false
        if let value = json.member("resumed") {
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
            value = try JSONValue.parse(utf8: bytes, maxDepth: 8)
        } catch {
            throw WireError(.invalidJSON, "\(verb) JSON is invalid: \(error.description)")
        }
        guard case .object = value else { throw WireError(.invalidJSON, "\(verb) JSON must be an object") }
        return value
    }

    func optionalString(_ key: String) throws(WireError) -> String? {
        guard let value = member(key), value != .null else { return nil }
        guard case .string(let text) = value else { throw WireError(.invalidJSON, "\"\(key)\" must be a string") }
        return text
    }

    func optionalInt(_ key: String) throws(WireError) -> Int? {
        guard let value = member(key), value != .null else { return nil }
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
