import Testing
import HeraldCore

/// Subscription and topic DeliveryPolicy parsing: accepted documents and every error text.
@Suite struct DeliveryPolicyParseTests {
    func subscriptionError(_ json: String, raw: Bool = false) -> String? {
        do {
            _ = try HTTPDeliveryPolicy.parse(Array(json.utf8), rawMessageDelivery: raw)
            return nil
        } catch {
            #expect(error.code == .invalidParameter)
            return error.message
        }
    }

    func topicError(_ json: String) -> String? {
        do {
            _ = try HTTPTopicDeliveryPolicy.parse(Array(json.utf8))
            return nil
        } catch {
            #expect(error.code == .invalidParameter)
            return error.message
        }
    }

    /// A healthyRetryPolicy document with `fields` replacing or adding members of a valid base.
    func retry(_ fields: String) -> String {
        #"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":60,"numRetries":10"# + (fields.isEmpty ? "" : "," + fields) + "}}"
    }

    let prefix = "Invalid parameter: DeliveryPolicy: "

    @Test func parsesAFullSubscriptionPolicy() throws {
        let json = #"""
            {"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":60,"numRetries":50,"numNoDelayRetries":3,
             "numMinDelayRetries":2,"numMaxDelayRetries":35,"backoffFunction":"exponential"},
             "sicklyRetryPolicy":null,"throttlePolicy":{"maxReceivesPerSecond":10},
             "requestPolicy":{"headerContentType":"application/json"},"guaranteed":false}
            """#
        let policy = try HTTPDeliveryPolicy.parse(Array(json.utf8), rawMessageDelivery: false)
        #expect(policy.healthyRetryPolicy == HTTPRetryPolicy(
            minDelayTarget: 1, maxDelayTarget: 60, numRetries: 50, numNoDelayRetries: 3,
            numMinDelayRetries: 2, numMaxDelayRetries: 35, backoffFunction: .exponential))
        #expect(policy.throttlePolicy == HTTPThrottlePolicy(maxReceivesPerSecond: 10))
        #expect(policy.requestPolicy == HTTPRequestPolicy(headerContentType: "application/json"))
    }

    @Test func partsAreOptionalAndDefaultsFillTheRest() throws {
        #expect(try HTTPDeliveryPolicy.parse(Array("{}".utf8), rawMessageDelivery: false) == HTTPDeliveryPolicy())
        let nulls = #"{"healthyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":null,"sicklyRetryPolicy":{"numRetries":1}}"#
        #expect(try HTTPDeliveryPolicy.parse(Array(nulls.utf8), rawMessageDelivery: false) == HTTPDeliveryPolicy())
        let policy = try HTTPDeliveryPolicy.parse(Array(retry("").utf8), rawMessageDelivery: false)
        #expect(policy.healthyRetryPolicy == HTTPRetryPolicy(minDelayTarget: 1, maxDelayTarget: 60, numRetries: 10))
        #expect(policy.healthyRetryPolicy?.backoffFunction == .linear)
    }

    @Test func everyBackoffFunctionName() throws {
        for function in BackoffFunction.allCases {
            let policy = try HTTPDeliveryPolicy.parse(Array(retry(#""backoffFunction":"\#(function.rawValue)""#).utf8), rawMessageDelivery: false)
            #expect(policy.healthyRetryPolicy?.backoffFunction == function)
        }
        #expect(subscriptionError(retry(#""backoffFunction":"quadratic""#))
            == prefix + "healthyRetryPolicy.backoffFunction must be one of linear, arithmetic, geometric, exponential")
        #expect(subscriptionError(retry(#""backoffFunction":"Linear""#))
            == prefix + "healthyRetryPolicy.backoffFunction must be one of linear, arithmetic, geometric, exponential")
        #expect(subscriptionError(retry(#""backoffFunction":1"#)) == prefix + "healthyRetryPolicy.backoffFunction must be a string")
    }

    @Test func rangeErrors() {
        let p = prefix + "healthyRetryPolicy."
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":0,"maxDelayTarget":0,"numRetries":0}}"#)
            == p + "minDelayTarget must be greater than or equal to 1")
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":3601,"numRetries":0}}"#)
            == p + "maxDelayTarget must be less than or equal to 3600")
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":3,"numRetries":1}}"#)
            == p + "maxDelayTarget must be greater than or equal to minDelayTarget")
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":-1}}"#)
            == p + "numRetries must be greater than or equal to 0")
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":101}}"#)
            == p + "numRetries must be less than or equal to 100")
        for field in ["numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries"] {
            #expect(subscriptionError(retry(#""\#(field)":-1"#)) == p + "\(field) must be greater than or equal to 0")
        }
        let phases = p + "numRetries must be greater than or equal to total of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries"
        #expect(subscriptionError(retry(#""numNoDelayRetries":4,"numMinDelayRetries":4,"numMaxDelayRetries":3"#)) == phases)
        #expect(subscriptionError(retry(#""numMaxDelayRetries":11"#)) == phases)
        #expect(subscriptionError(retry(#""numNoDelayRetries":99999999999999999999999"#)) == phases)
        // Exactly numRetries in the three phases is fine (no backoff phase).
        #expect(subscriptionError(retry(#""numNoDelayRetries":4,"numMinDelayRetries":3,"numMaxDelayRetries":3"#)) == nil)
        // Saturated huge numbers meet the range check, not a crash.
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":123456789012345678901234567890}}"#)
            == p + "numRetries must be less than or equal to 100")
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":-99999999999999999999999,"maxDelayTarget":1,"numRetries":1}}"#)
            == p + "minDelayTarget must be greater than or equal to 1")
    }

    @Test func totalRetryTimeLimit() {
        // 4 × 901 s = 3,604 s.
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":901,"maxDelayTarget":901,"numRetries":4}}"#)
            == prefix + "healthyRetryPolicy: Total policy retry time cannot be greater than 3600 seconds")
        // 4 × 900 s = 3,600 s: allowed.
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":900,"maxDelayTarget":900,"numRetries":4}}"#) == nil)
        // The re:Post case: min 3599, max 3600 with SNS's 3 retries.
        #expect(topicError(#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":3599,"maxDelayTarget":3600,"numRetries":3}}}"#)
            == prefix + "http.defaultHealthyRetryPolicy: Total policy retry time cannot be greater than 3600 seconds")
    }

    @Test func requiredFieldsAndTypes() {
        let p = prefix + "healthyRetryPolicy."
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"maxDelayTarget":60,"numRetries":1}}"#) == p + "minDelayTarget must be specified")
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":1,"numRetries":1}}"#) == p + "maxDelayTarget must be specified")
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":null}}"#) == p + "maxDelayTarget must be specified")
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1}}"#) == p + "numRetries must be specified")
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":"1","maxDelayTarget":1,"numRetries":1}}"#)
            == p + "minDelayTarget must be an integer")
        #expect(subscriptionError(retry(#""numNoDelayRetries":1.5"#)) == p + "numNoDelayRetries must be an integer")
        #expect(subscriptionError(retry(#""numMinDelayRetries":1e1"#)) == p + "numMinDelayRetries must be an integer")
        #expect(subscriptionError(retry(#""numMaxDelayRetries":true"#)) == p + "numMaxDelayRetries must be an integer")
        #expect(subscriptionError(#"{"healthyRetryPolicy":[]}"#) == prefix + "healthyRetryPolicy must be a JSON object")
        #expect(subscriptionError(#"{"throttlePolicy":5}"#) == prefix + "throttlePolicy must be a JSON object")
        #expect(subscriptionError(#"{"sicklyRetryPolicy":"x"}"#) == prefix + "sicklyRetryPolicy must be a JSON object")
        #expect(subscriptionError(#"{"guaranteed":"no"}"#) == prefix + "guaranteed must be a boolean")
        #expect(subscriptionError(#"[1]"#) == prefix + "DeliveryPolicy value must be a JSON object")
    }

    @Test func unknownMembersAndBadJSON() {
        #expect(subscriptionError(#"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":1,"jitter":1}}"#)
            == prefix + "Unexpected JSON member: jitter")
        #expect(subscriptionError(#"{"http":{}}"#) == prefix + "Unexpected JSON member: http")
        #expect(subscriptionError(#"{"throttlePolicy":{"maxReceivesPerSecond":1,"burst":2}}"#) == prefix + "Unexpected JSON member: burst")
        let bad = subscriptionError(#"{"healthyRetryPolicy":"#)
        #expect(bad?.hasPrefix(prefix + "failed to parse JSON. ") == true)
        #expect(subscriptionError("")?.hasPrefix(prefix + "failed to parse JSON. ") == true)
        #expect(subscriptionError(String(repeating: "[", count: 100))?.hasPrefix(prefix + "failed to parse JSON. ") == true)
    }

    @Test func throttlePolicy() throws {
        #expect(subscriptionError(#"{"throttlePolicy":{"maxReceivesPerSecond":0}}"#)
            == prefix + "throttlePolicy.maxReceivesPerSecond must be greater than or equal to 1")
        #expect(subscriptionError(#"{"throttlePolicy":{}}"#) == prefix + "throttlePolicy.maxReceivesPerSecond must be specified")
        #expect(subscriptionError(#"{"throttlePolicy":{"maxReceivesPerSecond":"5"}}"#)
            == prefix + "throttlePolicy.maxReceivesPerSecond must be an integer")
        let policy = try HTTPDeliveryPolicy.parse(Array(#"{"throttlePolicy":{"maxReceivesPerSecond":1}}"#.utf8), rawMessageDelivery: false)
        #expect(policy.throttlePolicy?.maxReceivesPerSecond == 1)
    }

    @Test func contentTypesDependOnRawDelivery() throws {
        func request(_ type: String) -> String { #"{"requestPolicy":{"headerContentType":"\#(type)"}}"# }
        for type in ["application/json", "text/plain", "text/plain; charset=UTF-8"] {
            #expect(subscriptionError(request(type), raw: false) == nil, "\(type)")
            #expect(subscriptionError(request(type), raw: true) == nil, "\(type)")
        }
        for type in ["text/csv", "text/css", "text/html", "text/xml", "application/atom+xml", "application/octet-stream",
                     "application/soap+xml", "application/x-www-form-urlencoded", "application/xhtml+xml", "application/xml"] {
            #expect(subscriptionError(request(type), raw: true) == nil, "\(type)")
            #expect(subscriptionError(request(type), raw: false)
                == prefix + "requestPolicy.headerContentType must be one of application/json, text/plain")
        }
        #expect(subscriptionError(request("image/png"), raw: true) == prefix
            + "requestPolicy.headerContentType must be one of text/css, text/csv, text/html, text/plain, text/xml, application/atom+xml, application/json, application/octet-stream, application/soap+xml, application/x-www-form-urlencoded, application/xhtml+xml, application/xml")
        #expect(subscriptionError(#"{"requestPolicy":{}}"#) == prefix + "requestPolicy.headerContentType must be specified")
        #expect(subscriptionError(#"{"requestPolicy":{"headerContentType":3}}"#) == prefix + "requestPolicy.headerContentType must be a string")
        let policy = try HTTPDeliveryPolicy.parse(Array(request("text/csv").utf8), rawMessageDelivery: true)
        #expect(policy.requestPolicy?.headerContentType == "text/csv")
    }

    @Test func parsesAFullTopicPolicy() throws {
        let json = #"""
            {"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":10,"numRetries":6,"backoffFunction":"geometric"},
             "disableSubscriptionOverrides":true,"defaultThrottlePolicy":{"maxReceivesPerSecond":3},
             "defaultRequestPolicy":{"headerContentType":"application/json"}}}
            """#
        let policy = try HTTPTopicDeliveryPolicy.parse(Array(json.utf8))
        #expect(policy == HTTPTopicDeliveryPolicy(
            defaultHealthyRetryPolicy: HTTPRetryPolicy(minDelayTarget: 5, maxDelayTarget: 10, numRetries: 6, backoffFunction: .geometric),
            disableSubscriptionOverrides: true,
            defaultThrottlePolicy: HTTPThrottlePolicy(maxReceivesPerSecond: 3),
            defaultRequestPolicy: HTTPRequestPolicy(headerContentType: "application/json")))
        #expect(try HTTPTopicDeliveryPolicy.parse(Array("{}".utf8)) == HTTPTopicDeliveryPolicy())
        #expect(try HTTPTopicDeliveryPolicy.parse(Array(#"{"http":{}}"#.utf8)) == HTTPTopicDeliveryPolicy())
    }

    @Test func topicErrorsNameTheFullPath() {
        let p = prefix + "http.defaultHealthyRetryPolicy."
        #expect(topicError(#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":101}}}"#)
            == p + "numRetries must be less than or equal to 100")
        #expect(topicError(#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":0,"maxDelayTarget":1,"numRetries":1}}}"#)
            == p + "minDelayTarget must be greater than or equal to 1")
        #expect(topicError(#"{"http":{"defaultHealthyRetryPolicy":{"maxDelayTarget":1,"numRetries":1}}}"#)
            == p + "minDelayTarget must be specified")
        #expect(topicError(#"{"throttlePolicy":{"maxReceivesPerSecond":1}}"#) == prefix + "Unexpected JSON member: throttlePolicy")
        #expect(topicError(#"{"http":{"healthyRetryPolicy":{}}}"#) == prefix + "Unexpected JSON member: healthyRetryPolicy")
        #expect(topicError(#"{"http":{"disableSubscriptionOverrides":"yes"}}"#)
            == prefix + "http.disableSubscriptionOverrides must be a boolean")
        #expect(topicError(#"{"http":{"defaultThrottlePolicy":{"maxReceivesPerSecond":0}}}"#)
            == prefix + "http.defaultThrottlePolicy.maxReceivesPerSecond must be greater than or equal to 1")
        #expect(topicError(#"{"http":[]}"#) == prefix + "http must be a JSON object")
        #expect(topicError("nope")?.hasPrefix(prefix + "failed to parse JSON. ") == true)
    }

    @Test func topicContentTypesAreJSONOrPlainText() {
        func request(_ type: String) -> String { #"{"http":{"defaultRequestPolicy":{"headerContentType":"\#(type)"}}}"# }
        #expect(topicError(request("application/json")) == nil)
        #expect(topicError(request("text/plain")) == nil)
        #expect(topicError(request("text/csv"))
            == prefix + "http.defaultRequestPolicy.headerContentType must be one of application/json, text/plain")
    }

    @Test func violationChecksPoliciesBuiltInCode() {
        #expect(HTTPRetryPolicy.snsDefault.violation() == nil)
        #expect(HTTPRetryPolicy(minDelayTarget: 0, maxDelayTarget: 1, numRetries: 1).violation(path: "x")
            == "x.minDelayTarget must be greater than or equal to 1")
        #expect(HTTPRetryPolicy(minDelayTarget: 1, maxDelayTarget: 1, numRetries: 1, numMaxDelayRetries: Int.max).violation()
            == "healthyRetryPolicy.numRetries must be greater than or equal to total of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries")
    }
}
