import HeraldBroker
import HeraldConfig
import HeraldCore

/// Who a connection is, once CONNECT was accepted, and what it may do.
public struct Principal: Sendable {
    public var name: String
    public var permissions: Permissions
    /// True for a client admitted without credentials. Anonymous clients share one identity, so
    /// they may not name session ids of their own (docs/PROTOCOL.md §6.4).
    public var isAnonymous: Bool

    public init(name: String, permissions: Permissions, isAnonymous: Bool = false) {
        self.name = name
        self.permissions = permissions
        self.isAnonymous = isAnonymous
    }

    /// Whom the sessions this principal creates belong to: the user (however it signed in, token
    /// or certificate), or anonymous.
    public var sessionOwner: SessionOwner { isAnonymous ? .anonymous : .user(name) }
}

/// Decides who a client is from its CONNECT token and verified client certificate.
public protocol Authenticator: Sendable {
    /// The principal, or an `AuthenticationFailed` error with a message safe to show the client.
    func authenticate(token: String?, certificateCommonName: String?) -> Result<Principal, HeraldError>
}

/// The configuration's users (`auth:`): a token wins, then a verified certificate's CN, then
/// anonymous access when allowed.
struct ConfigAuthenticator: Authenticator {
    let auth: HeraldConfig.Auth

    func authenticate(token: String?, certificateCommonName: String?) -> Result<Principal, HeraldError> {
        if let token, !token.isEmpty {
            guard let user = auth.user(token: token) else {
                return .failure(HeraldError(.authenticationFailed, "unknown token"))
            }
            return .success(Principal(name: user.name, permissions: user.permissions))
        }
        if let cn = certificateCommonName, let user = auth.user(certificateCommonName: cn) {
            return .success(Principal(name: user.name, permissions: user.permissions))
        }
        if auth.allowAnonymous {
            return .success(Principal(name: "anonymous", permissions: auth.anonymousPermissions, isAnonymous: true))
        }
        return .failure(HeraldError(.authenticationFailed, "credentials required: send a token in CONNECT or a known client certificate"))
    }
}
