import HeraldConfig
import HeraldCore
import HeraldWire

/// Who an HTTP API request acts as.
///
/// - When some user has `accessKeys`, every request must carry a valid SigV4 signature by one of
///   them (`SignatureDoesNotMatch`, `InvalidClientTokenId`, `IncompleteSignature`,
///   `MissingAuthenticationToken`, 403) and acts as that user, with the user's permissions — the
///   same as on the stream port.
/// - Otherwise (the embedded defaults) any access key id is accepted, as the emulators do, and the
///   request gets the anonymous permissions of `auth:` when anonymous access is on; every
///   permission when it is off but the API listens on a loopback address only; nothing otherwise.
///   The server says so at start.
/// The request's peer address is not known to the handler, so "on loopback" is decided by the
/// listen address (a loopback-bound socket only accepts local peers). Pure (the clock is passed in).
enum APIAccess {
    /// The principal of `request` under `auth`; `now` is seconds since 1970.
    static func authenticate(_ request: HTTPRequest, auth: HeraldConfig.Auth, loopbackOnly: Bool, now: Int64) -> Result<Principal, APIAccessError> {
        var owners: [String: HeraldConfig.User] = [:]
        for user in auth.users { for key in user.accessKeys { owners[key.id] = user } }
        guard !owners.isEmpty else {
            return accessKeyID(authorization: request.headers["Authorization"])
                .flatMap { principal(accessKeyID: $0, auth: auth, loopbackOnly: loopbackOnly) }
        }
        let signed = SigV4Request(
            method: request.method, path: String(request.path), query: String(request.query ?? ""),
            headers: request.headers.fields.map { (name: $0.name, value: $0.value) }, body: request.body)
        do {
            let credential = try SigV4.verify(signed, now: now) { id in owners[id]?.accessKeys.first { $0.id == id }?.secret }
            guard let user = owners[credential.accessKeyID] else { return .failure(APIAccessError(shape: .invalidClientTokenId, message: SigV4Error.unknownKey.message)) }
            return .success(Principal(name: user.name, permissions: user.permissions))
        } catch {
            return .failure(APIAccessError(shape: SQSErrorShape(shape: error.code.rawValue, queryCode: error.code.rawValue, status: error.status), message: error.message))
        }
    }

    /// Whether `auth` makes the API verify signatures (some user has access keys).
    static func verifiesSignatures(_ auth: HeraldConfig.Auth) -> Bool { auth.users.contains { !$0.accessKeys.isEmpty } }

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
