import HeraldCore

/// Who a connection is, once CONNECT was accepted, and what it may do.
public struct Principal: Sendable {
    public var name: String
    public var permissions: Permissions

    public init(name: String, permissions: Permissions) {
        self.name = name
        self.permissions = permissions
    }
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
            return .success(Principal(name: "anonymous", permissions: auth.anonymousPermissions))
        }
        return .failure(HeraldError(.authenticationFailed, "credentials required: send a token in CONNECT or a known client certificate"))
    }
}
