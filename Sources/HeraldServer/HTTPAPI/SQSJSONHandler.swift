import Foundation
import HeraldConfig
import HeraldCore
import HeraldWire

/// The HTTP API's request router for the SQS JSON protocol (AWS JSON 1.0, spec/aws-api.md §1–2):
/// `POST /` with `X-Amz-Target: AmazonSQS.<Operation>` runs the operation through `QueueAPI` and
/// answers 200 with its JSON, or an AWS JSON error (`__type`, `message`, and the
/// `x-amzn-query-error` header the SDKs build the error code from). `GET
/// /SimpleNotificationService-herald.pem` serves the certificate of signed SNS envelopes (their
/// `SigningCertURL`). Anything else is a 404 in the same error shape.
///
/// Contract: `handle` is called by `HTTPServer` on a connection's serial queue and never blocks;
/// `respond` is called once, either at once (errors found before the queue API) or later from the
/// queue manager's callback queue. The closures it holds are read on each request, so a reload's
/// settings and permissions apply to the next request.
final class SQSJSONHandler: Sendable {
    /// The SQS service model's operations (botocore `sqs/2012-11-05`). A target outside this list is
    /// `UnknownOperationException`; one inside that Herald does not implement gets QueueAPI's
    /// `InvalidAction`. The list keeps QueueAPI's SNS-named actions (`Subscribe`…) off this door.
    static let operations: Set<String> = [
        "AddPermission", "CancelMessageMoveTask", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "CreateQueue",
        "DeleteMessage", "DeleteMessageBatch", "DeleteQueue", "GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues",
        "ListMessageMoveTasks", "ListQueueTags", "ListQueues", "PurgeQueue", "ReceiveMessage", "RemovePermission", "SendMessage",
        "SendMessageBatch", "SetQueueAttributes", "StartMessageMoveTask", "TagQueue", "UntagQueue",
    ]
    static let targetPrefix = "AmazonSQS."
    static let contentType = "application/x-amz-json-1.0"
    /// Where `EnvelopeRenderer` points `SigningCertURL` (below the public URL).
    static let signingCertificatePath = "/SimpleNotificationService-herald.pem"

    struct Dependencies: Sendable {
        /// The queue API (nil before the queue stack is open).
        var queues: @Sendable () -> QueueAPI?
        /// The current session settings and `auth:` section (they change on reload).
        var settings: @Sendable () -> SessionSettings
        var auth: @Sendable () -> HeraldConfig.Auth
        /// The signing certificate PEM, nil when it cannot be read.
        var signingCertificate: @Sendable () -> [UInt8]?
        /// The API listens on loopback only (see `APIAccess`).
        var loopbackOnly: Bool
        /// HTTP/S subscriptions (the SubscribeURL and UnsubscribeURL actions).
        var endpoints: @Sendable () -> HTTPEndpoints? = { nil }
        /// The front door SNS Publish and the topic actions go through.
        var service: HeraldService?
    }

    private let dependencies: Dependencies

    init(_ dependencies: Dependencies) {
        self.dependencies = dependencies
    }

    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let requestID = UUID().uuidString.lowercased()
        if request.path == Self.signingCertificatePath, request.method == "GET" || request.method == "HEAD" {
            return respond(certificateResponse(requestID: requestID))
        }
        if request.headers["X-Amz-Target"] == nil, let (action, parameters) = SNSQueryHandler.action(of: request) {
            // The legacy SQS query protocol shares the form encoding with SNS (spec §1.4).
            if SQSQueryHandler.isSQS(request, parameters: parameters) {
                return SQSQueryHandler(dependencies: dependencies).handle(request, action: action, parameters: parameters, requestID: requestID, respond: respond)
            }
            let links = SNSQueryHandler(endpoints: dependencies.endpoints, settings: dependencies.settings)
            // The SubscribeURL and UnsubscribeURL an endpoint was sent are followed unsigned, as in SNS.
            if request.headers["Authorization"] == nil, action == "ConfirmSubscription" || action == "Unsubscribe" {
                return links.handle(action: action, parameters: parameters, requestID: requestID, respond: respond)
            }
            return handleSNS(request, action: action, parameters: parameters, requestID: requestID, respond: respond)
        }
        guard let target = request.headers["X-Amz-Target"] else {
            return respond(Self.error(.notFound, "Herald's HTTP API serves the SQS JSON protocol (POST / with X-Amz-Target: AmazonSQS.<Operation>); \(request.method) \(request.path) is not a resource.", requestID: requestID))
        }
        guard request.method == "POST" else {
            return respond(Self.error(.invalidRequest, "SQS JSON requests are POST, not \(request.method).", requestID: requestID))
        }
        guard target.hasPrefix(Self.targetPrefix), case let action = String(target.dropFirst(Self.targetPrefix.count)), Self.operations.contains(action) else {
            return respond(Self.error(.unknownOperation, "The operation \(target) is not known to this endpoint.", requestID: requestID))
        }
        let principal: Principal
        let now = Int64(Date().timeIntervalSince1970)
        switch APIAccess.authenticate(request, auth: dependencies.auth(), loopbackOnly: dependencies.loopbackOnly, now: now) {
        case .success(let found): principal = found
        case .failure(let problem): return respond(Self.error(problem.shape, problem.message, requestID: requestID))
        }
        guard let api = dependencies.queues() else {
            return respond(Self.error(SQSErrorShape(.shuttingDown), "The queue service is not running.", requestID: requestID))
        }
        api.handle(action: action, body: request.body, principal: principal, settings: dependencies.settings()) { result in
            switch result {
            case .success(let json):
                var body: [UInt8] = []
                json.write(to: &body)
                respond(HTTPResponse(status: 200, headers: Self.headers(requestID: requestID), body: body))
            case .failure(let error):
                respond(Self.error(SQSErrorShape(error.code), error.message, requestID: requestID))
            }
        }
    }

    /// A signed SNS query request (SNSAPI), answered in SNS's XML.
    private func handleSNS(
        _ request: HTTPRequest, action: String, parameters: [String: String], requestID: String, respond: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        guard SNSAPI.actions.contains(action) else {
            return respond(SNSQueryHandler.error(status: 400, code: "InvalidAction", "The action \(action) is not valid for this web service.", requestID: requestID))
        }
        let principal: Principal
        switch APIAccess.authenticate(request, auth: dependencies.auth(), loopbackOnly: dependencies.loopbackOnly, now: Int64(Date().timeIntervalSince1970)) {
        case .success(let found): principal = found
        case .failure(let problem):
            return respond(SNSQueryHandler.error(status: problem.shape.status, code: problem.shape.queryCode, problem.message, requestID: requestID))
        }
        guard let service = dependencies.service, let queues = dependencies.queues() else {
            return respond(SNSQueryHandler.error(status: 503, code: "ServiceUnavailable", "The service is not running.", requestID: requestID, type: "Receiver"))
        }
        let api = SNSAPI(service: service, queues: queues, identity: queues.identity)
        api.handle(action: action, parameters: parameters, principal: principal, settings: dependencies.settings(), requestID: requestID) { result in
            switch result {
            case .success(let document): respond(SNSQueryHandler.xml(document))
            case .failure(let error): respond(SNSQueryHandler.error(error, requestID: requestID))
            }
        }
    }

    private func certificateResponse(requestID: String) -> HTTPResponse {
        guard let pem = dependencies.signingCertificate() else {
            return Self.error(.notFound, "This server has no signing certificate to serve.", requestID: requestID)
        }
        return HTTPResponse(status: 200, headers: ["Content-Type": "application/x-pem-file", "x-amzn-RequestId": requestID], body: pem)
    }

    static func headers(requestID: String) -> HTTPHeaders {
        ["Content-Type": contentType, "x-amzn-RequestId": requestID]
    }

    /// An AWS JSON 1.0 error: `{"__type":"com.amazonaws.sqs#Shape","message":"…"}` with the
    /// legacy code in `x-amzn-query-error`.
    static func error(_ shape: SQSErrorShape, _ message: String, requestID: String) -> HTTPResponse {
        var headers = headers(requestID: requestID)
        headers.append("x-amzn-query-error", shape.queryErrorHeader)
        let json = JSONValue.object([
            JSONValue.Member(key: "__type", value: .string(shape.type)), JSONValue.Member(key: "message", value: .string(message)),
        ])
        var body: [UInt8] = []
        json.write(to: &body)
        return HTTPResponse(status: shape.status, headers: headers, body: body)
    }
}
