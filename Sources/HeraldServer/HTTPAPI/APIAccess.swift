import HeraldConfig

/// Who an HTTP API request acts as, in this first slice (no `accessKeys` on users yet, so SigV4
/// signatures are not verified): any access key id is accepted, and the request gets
/// - the anonymous permissions of `auth:` when anonymous access is on;
/// - every permission when anonymous access is off but the API listens on a loopback address only
///   (every caller is on this machine, as with the emulators' "any key on loopback");
/// - nothing otherwise: `InvalidClientTokenId` until access keys are configurable.
/// The request's peer address is not known to the handler, so "on loopback" is decided by the
/// listen address (a loopback-bound socket only accepts local peers). Pure.
enum APIAccess {
    /// The access key id from a SigV4 `Authorization` header
    /// (`AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, SignedHeaders=…, Signature=…`);
    /// nil when there is no header; an error when it is there but not SigV4-shaped.
    static func accessKeyID(authorization: String?) -> Result<String?, APIAccessError> {
        guard let authorization else { return .success(nil) }
        let scheme = "AWS4-HMAC-SHA256 "
        guard authorization.hasPrefix(scheme) else {
            return .failure(APIAccessError(shape: .incompleteSignature, message: "Authorization header requires the AWS4-HMAC-SHA256 scheme (SigV4)."))
        }
        for part in authorization.dropFirst(scheme.count).split(separator: ",") {
            let field = part.trimmingPrefix(while: { $0 == " " })
            guard field.hasPrefix("Credential=") else { continue }
            let credential = field.dropFirst("Credential=".count)
            let key = credential.prefix { $0 != "/" }
            guard !key.isEmpty, key.count <= 128, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }), credential.contains("/") else { break }
            return .success(String(key))
        }
        return .failure(APIAccessError(shape: .incompleteSignature, message: "Authorization header requires a 'Credential' parameter of the form AKID/DATE/REGION/SERVICE/aws4_request."))
    }

    /// The principal of a request with `accessKeyID` (nil: unsigned) under `auth`.
    static func principal(accessKeyID: String?, auth: HeraldConfig.Auth, loopbackOnly: Bool) -> Result<Principal, APIAccessError> {
        let name = accessKeyID.map { "access key \($0)" } ?? "anonymous"
        if auth.allowAnonymous { return .success(Principal(name: name, permissions: auth.anonymousPermissions, isAnonymous: true)) }
        if loopbackOnly { return .success(Principal(name: name, permissions: .all, isAnonymous: true)) }
        return .failure(APIAccessError(
            shape: .invalidClientTokenId,
            message: "The security token included in the request is invalid. (Herald's HTTP API does not verify access keys yet: enable anonymous access or listen on a loopback address.)"))
    }

    /// Whether `host` only accepts connections from this machine.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

struct APIAccessError: Error, Sendable {
    var shape: SQSErrorShape
    var message: String
}
