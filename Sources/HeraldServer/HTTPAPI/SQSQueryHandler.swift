import Foundation
import HeraldCore
import HeraldWire

/// The legacy SQS query protocol (older SDKs; spec/aws-api.md §1.4, §2.2–2.5, §4.4) on the HTTP
/// API port: a form-encoded `Action=<Op>&Version=2012-11-05&…` request, posted to `/` or to the
/// queue URL's path, is turned into the operation's JSON request (`SQSQueryParameters`), run
/// through `QueueAPI` — the same code the JSON protocol runs — and its JSON answer rendered as
/// SQS's XML (`SQSQueryXML`); errors are SQS's XML errors with the legacy codes.
///
/// Contract: `SQSJSONHandler.handle` calls `isSQS` and then `handle` on a connection's serial
/// queue; `handle` never blocks and calls `respond` once, either at once or later from the queue
/// manager's callback queue.
struct SQSQueryHandler: Sendable {
    static let version = "2012-11-05"
    /// SNS's query `Version`: such a request is SNS's, whatever its path or scope.
    static let snsVersion = "2010-03-31"

    let dependencies: SQSJSONHandler.Dependencies

    /// Whether a query request (one with `Action`, no `X-Amz-Target`) is for SQS rather than SNS:
    /// by its `Version`, else the SigV4 credential scope's service, else a queue-URL path.
    static func isSQS(_ request: HTTPRequest, parameters: [String: String]) -> Bool {
        switch parameters["Version"] {
        case version?: return true
        case snsVersion?: return false
        default: break
        }
        if let service = credentialScopeService(request, parameters: parameters) { return service == "sqs" }
        return SQSQueryParameters.queueName(path: request.path) != nil
    }

    /// The service of the SigV4 credential scope (`AKID/DATE/REGION/SERVICE/aws4_request`), from the
    /// `Authorization` header or a presigned request's `X-Amz-Credential`.
    static func credentialScopeService(_ request: HTTPRequest, parameters: [String: String]) -> String? {
        var credential: Substring?
        if let authorization = request.headers["Authorization"], let range = authorization.range(of: "Credential=") {
            credential = authorization[range.upperBound...].prefix { $0 != "," && $0 != " " }
        } else if let presigned = parameters["X-Amz-Credential"] {
            credential = Substring(presigned)
        }
        guard let scope = credential?.split(separator: "/", omittingEmptySubsequences: false), scope.count == 5 else { return nil }
        return String(scope[3]).lowercased()
    }

    func handle(_ request: HTTPRequest, action: String, parameters: [String: String], requestID: String, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        guard SQSJSONHandler.operations.contains(action) else {
            return respond(Self.error(SQSErrorShape(.invalidAction), "The action \(action) is not valid for this web service.", requestID: requestID))
        }
        let principal: Principal
        switch APIAccess.authenticate(request, auth: dependencies.auth(), loopbackOnly: dependencies.loopbackOnly, now: Int64(Date().timeIntervalSince1970)) {
        case .success(let found): principal = found
        case .failure(let problem): return respond(Self.error(problem.shape, problem.message, requestID: requestID))
        }
        guard let api = dependencies.queues() else {
            return respond(Self.error(SQSErrorShape(.shuttingDown), "The queue service is not running.", requestID: requestID))
        }
        let json: JSONValue
        do throws(HeraldError) {
            json = try SQSQueryParameters.json(parameters, path: request.path)
        } catch {
            return respond(Self.error(SQSErrorShape(error.code), error.message, requestID: requestID))
        }
        let settings = dependencies.settings()
        let answer: @Sendable (Result<JSONValue, HeraldError>) -> Void = { result in
            switch result {
            case .success(let output): respond(Self.xml(SQSQueryXML.response(action: action, result: output, requestID: requestID), requestID: requestID))
            case .failure(let error): respond(Self.error(error, requestID: requestID))
            }
        }
        api.handle(action: action, body: Self.bytes(json), principal: principal, settings: settings, reply: answer)
    }

    private static func bytes(_ json: JSONValue) -> [UInt8] {
        var body: [UInt8] = []
        json.write(to: &body)
        return body
    }

    static func xml(_ document: String, status: Int = 200, requestID: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/xml", "x-amzn-RequestId": requestID], body: Array(document.utf8))
    }

    /// A QueueAPI error with its legacy code; a missing queue gets SQS's legacy query text.
    static func error(_ error: HeraldError, requestID: String) -> HTTPResponse {
        let message = error.code == .queueDoesNotExist ? SQSQueryXML.nonExistentQueueText : error.message
        return Self.error(SQSErrorShape(error.code), message, requestID: requestID)
    }

    static func error(_ shape: SQSErrorShape, _ message: String, requestID: String) -> HTTPResponse {
        xml(SQSQueryXML.error(code: shape.queryCode, message: message, serverFault: shape.isServerFault, requestID: requestID), status: shape.status, requestID: requestID)
    }
}
