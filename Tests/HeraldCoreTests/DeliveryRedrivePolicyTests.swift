import Testing
import HeraldCore

/// A subscription's RedrivePolicy: SNS's ARN form, Herald's shorthand and the error texts.
@Suite struct DeliveryRedrivePolicyTests {
    func error(_ json: String) -> String? {
        do {
            _ = try SubscriptionRedrivePolicy.parse(Array(json.utf8))
            return nil
        } catch {
            #expect(error.code == .invalidParameter)
            return error.message
        }
    }

    @Test func parsesTheARNForm() throws {
        let policy = try SubscriptionRedrivePolicy.parse(Array(#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:my-dlq.fifo"}"#.utf8))
        #expect(policy == SubscriptionRedrivePolicy(deadLetterQueue: "my-dlq.fifo", region: "us-east-1", account: "123456789012"))
    }

    @Test func parsesTheShorthand() throws {
        let policy = try SubscriptionRedrivePolicy.parse(Array(#"{"deadLetterTarget":"orders_DLQ-1"}"#.utf8))
        #expect(policy.deadLetterQueue == "orders_DLQ-1")
        #expect(policy.region == nil && policy.account == nil)
    }

    @Test func invalidARNs() {
        let invalid = "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn"
        for arn in [
            "", "dlq", "arn:aws:sns:us-east-1:123456789012:dlq", "arn:aws:sqs:us-east-1:123456789012",
            "arn:aws:sqs::123456789012:dlq", "arn:aws:sqs:us-east-1::dlq", "arn:aws:sqs:us-east-1:1:",
            "arn:aws:sqs:us-east-1:1:a:b", "arn::sqs:r:1:dlq", "urn:aws:sqs:r:1:dlq",
            "arn:aws:sqs:r:1:bad name", "arn:aws:sqs:r:1:" + String(repeating: "q", count: 81), "arn:aws:sqs:r:1:.fifo",
        ] {
            #expect(error(#"{"deadLetterTargetArn":"\#(arn)"}"#) == invalid, "\(arn)")
        }
        #expect(error(#"{"deadLetterTargetArn":"arn:aws:sqs:r:1:"# + String(repeating: "q", count: 80) + #""}"#) == nil)
    }

    @Test func otherErrors() {
        let p = "Invalid parameter: RedrivePolicy: "
        #expect(error(#"{"deadLetterTarget":"a/b"}"#) == p + "deadLetterTarget is an invalid queue name")
        #expect(error(#"{"deadLetterTarget":""}"#) == p + "deadLetterTarget is an invalid queue name")
        #expect(error("{}") == p + "deadLetterTargetArn must be specified")
        #expect(error(#"{"deadLetterTargetArn":null}"#) == p + "deadLetterTargetArn must be specified")
        #expect(error(#"{"deadLetterTargetArn":"arn:aws:sqs:r:1:a","deadLetterTarget":"a"}"#)
            == p + "specify either deadLetterTargetArn or deadLetterTarget, not both")
        #expect(error(#"{"deadLetterTargetArn":5}"#) == p + "deadLetterTargetArn must be a string")
        #expect(error(#"{"maxReceiveCount":5}"#) == p + "Unexpected JSON member: maxReceiveCount")
        #expect(error(#""arn""#) == p + "RedrivePolicy value must be a JSON object")
        #expect(error(#"{"deadLetterTargetArn":"#)?.hasPrefix(p + "failed to parse JSON. ") == true)
    }
}
