import HeraldCore

/// Who a connection is, once CONNECT was accepted, and what it may do.
public struct Principal: Sendable {
    public var name: String
    public var publish: TopicPermission
    public var subscribe: TopicPermission

    public init(name: String, publish: TopicPermission, subscribe: TopicPermission) {
        self.name = name
        self.publish = publish
        self.subscribe = subscribe
    }

    public static let anonymous = Principal(name: "anonymous", publish: .all, subscribe: .all)
}

/// A set of topic patterns: `*` (every topic), `prefix*`, or an exact name.
public struct TopicPermission: Sendable, Hashable {
    public var patterns: [String]

    public init(_ patterns: [String]) { self.patterns = patterns }
    public static let all = TopicPermission(["*"])
    public static let none = TopicPermission([])

    public func allows(_ topic: String) -> Bool {
        for pattern in patterns {
            if pattern == "*" || pattern == topic { return true }
            if pattern.hasSuffix("*"), topic.hasPrefix(pattern.dropLast()) { return true }
        }
        return false
    }
}

/// Decides who a client is from its CONNECT token and verified client certificate.
public protocol Authenticator: Sendable {
    /// The principal, or an `AuthenticationFailed` error with a message safe to show the client.
    func authenticate(token: String?, certificateCommonName: String?) -> Result<Principal, HeraldError>
}

/// Static users with tokens and/or certificate common names; optionally anonymous access.
public struct StaticAuthenticator: Authenticator {
    public struct User: Sendable {
        public var principal: Principal
        public var token: String?
        public var certificateCommonName: String?

        public init(principal: Principal, token: String?, certificateCommonName: String?) {
            self.principal = principal
            self.token = token
            self.certificateCommonName = certificateCommonName
        }
    }

    public var users: [User]
    /// The principal for clients that present neither a token nor a known certificate; nil refuses them.
    public var anonymous: Principal?

    public init(users: [User], anonymous: Principal?) {
        self.users = users
        self.anonymous = anonymous
    }

    public func authenticate(token: String?, certificateCommonName: String?) -> Result<Principal, HeraldError> {
        if let token, !token.isEmpty {
            if let user = users.first(where: { $0.token.map { constantTimeEquals($0, token) } ?? false }) {
                return .success(user.principal)
            }
            return .failure(HeraldError(.authenticationFailed, "unknown token"))
        }
        if let cn = certificateCommonName, let user = users.first(where: { $0.certificateCommonName == cn }) {
            return .success(user.principal)
        }
        if let anonymous { return .success(anonymous) }
        return .failure(HeraldError(.authenticationFailed, "credentials required: send a token in CONNECT or a known client certificate"))
    }

    /// Compares secrets without an early exit, so timing does not reveal a matching prefix.
    private func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}
