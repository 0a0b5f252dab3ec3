import HeraldCore
import HeraldWire

/// The SNS query-protocol actions an HTTP/S endpoint reaches by following the links Herald sends
/// it: `ConfirmSubscription` (the SubscribeURL: `?Action=ConfirmSubscription&TopicArn=…&Token=…`)
/// and `Unsubscribe` (the UnsubscribeURL: `?Action=Unsubscribe&SubscriptionArn=…`), by GET or
/// form POST, answered with SNS's XML (spec §4.2, spec/aws-api.md §2.5). Like SNS, they need no
/// signature: the token, or the subscription ARN in a URL only the endpoint was sent, is the key.
/// The rest of the SNS API is not served yet: other actions answer SNS's `InvalidAction`.
///
/// Contract: `handle` never blocks; `respond` runs once, possibly later on the queue manager's
/// callback queue.
struct SNSQueryHandler: Sendable {
    static let namespace = "http://sns.amazonaws.com/doc/2010-03-31/"

    let endpoints: @Sendable () -> HTTPEndpoints?
    let settings: @Sendable () -> SessionSettings

    /// Whether `request` is an SNS query request (an `Action` parameter in the query or form body).
    static func action(of request: HTTPRequest) -> (action: String, parameters: [String: String])? {
        var fields: [HTTPField] = []
        if let query = request.query, let parsed = try? FormURLEncoding.decode(query) { fields += parsed }
        if request.method == "POST", request.headers["Content-Type"]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true,
           let parsed = try? FormURLEncoding.decode(bytes: request.body) {
            fields += parsed
        }
        var parameters: [String: String] = [:]
        for field in fields where parameters[field.name] == nil { parameters[field.name] = field.value }
        guard let action = parameters["Action"] else { return nil }
        return (action, parameters)
    }

    func handle(action: String, parameters: [String: String], requestID: String, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        guard let endpoints = endpoints() else {
            return respond(Self.error(status: 503, code: "ServiceUnavailable", "The subscription service is not running.", requestID: requestID))
        }
        switch action {
        case "ConfirmSubscription":
            guard let topicArn = parameters["TopicArn"], let token = parameters["Token"] else {
                return respond(Self.error(status: 400, code: "InvalidParameter", "Invalid parameter: \(parameters["TopicArn"] == nil ? "Topic" : "Token")", requestID: requestID))
            }
            endpoints.confirm(topicArn: topicArn, token: token, filterLimits: settings().filterLimits) { result in
                switch result {
                case .success(let arn):
                    respond(Self.xml(
                        "<ConfirmSubscriptionResponse xmlns=\"\(Self.namespace)\"><ConfirmSubscriptionResult><SubscriptionArn>\(Self.escape(arn))</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>\(requestID)</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>"))
                case .failure(let error):
                    respond(Self.error(error, requestID: requestID))
                }
            }
        case "Unsubscribe":
            guard let arn = parameters["SubscriptionArn"] else {
                return respond(Self.error(status: 400, code: "InvalidParameter", "Invalid parameter: SubscriptionArn", requestID: requestID))
            }
            endpoints.unsubscribe(subscriptionArn: arn) { result in
                switch result {
                case .success:
                    respond(Self.xml(
                        "<UnsubscribeResponse xmlns=\"\(Self.namespace)\"><ResponseMetadata><RequestId>\(requestID)</RequestId></ResponseMetadata></UnsubscribeResponse>"))
                case .failure(let error):
                    respond(Self.error(error, requestID: requestID))
                }
            }
        default:
            respond(Self.error(status: 400, code: "InvalidAction", "The action \(action) is not valid for this web service.", requestID: requestID))
        }
    }

    static func xml(_ document: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/xml"], body: Array(document.utf8))
    }

    static func error(_ error: HeraldError, requestID: String) -> HTTPResponse {
        switch error.code {
        case .notFound: return Self.error(status: 404, code: "NotFound", error.message, requestID: requestID)
        case .notAuthorized: return Self.error(status: 403, code: "AuthorizationError", error.message, requestID: requestID)
        case .storageUnavailable: return Self.error(status: 500, code: "InternalError", error.message, requestID: requestID, type: "Receiver")
        case .invalidFilterPolicy: return Self.error(status: 400, code: "InvalidParameter", error.message, requestID: requestID)
        default: return Self.error(status: 400, code: error.code.rawValue, error.message, requestID: requestID)
        }
    }

    static func error(status: Int, code: String, _ message: String, requestID: String, type: String = "Sender") -> HTTPResponse {
        xml("<ErrorResponse xmlns=\"\(namespace)\"><Error><Type>\(type)</Type><Code>\(code)</Code><Message>\(escape(message))</Message></Error><RequestId>\(requestID)</RequestId></ErrorResponse>", status: status)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
