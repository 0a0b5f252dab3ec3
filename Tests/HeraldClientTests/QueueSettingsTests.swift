import Testing
import HeraldCore
@testable import HeraldClient

/// The CLI's pure rules: durations, CreateQueue attributes, base64.
@Suite struct QueueSettingsTests {
    @Test(arguments: [("30", 30), ("0", 0), ("30s", 30), ("5m", 300), ("12h", 43_200), ("4d", 345_600), ("007", 7)])
    func durations(_ text: String, _ seconds: Int) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test(arguments: ["", "s", "-5", "+5", "1.5m", "5 m", "5x", "5ms", "1m30s", "٣", "99999999999999999999", "9223372036854775807d"])
    func badDurations(_ text: String) {
        #expect(DurationText.seconds(text) == nil)
    }

    @Test func defaultsSendNoAttributes() throws {
        #expect(try QueueSettings(name: "q").attributes() == [:])
    }

    @Test func everyOptionMapsToItsSQSAttribute() throws {
        let settings = QueueSettings(
            name: "jobs.fifo", fifo: true, visibilitySeconds: 300, deadLetterQueue: "jobs-dlq.fifo", maxReceives: 5,
            retentionSeconds: 345_600, delaySeconds: 0, contentBasedDeduplication: true)
        #expect(try settings.attributes() == [
            "FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "300", "MessageRetentionPeriod": "345600",
            "DelaySeconds": "0", "RedrivePolicy": #"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:jobs-dlq.fifo","maxReceiveCount":5}"#,
        ])
        // A .fifo name implies FIFO; an ARN dead-letter queue is kept as given.
        let implied = QueueSettings(name: "a.fifo", deadLetterQueue: "arn:aws:sqs:eu-west-1:1:d", maxReceives: 1)
        #expect(try implied.attributes()["FifoQueue"] == "true")
        #expect(try implied.attributes()["RedrivePolicy"] == #"{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:1:d","maxReceiveCount":1}"#)
    }

    @Test(arguments: [
        QueueSettings(name: "q", fifo: true),
        QueueSettings(name: "q", contentBasedDeduplication: true),
        QueueSettings(name: "q", deadLetterQueue: "d"),
        QueueSettings(name: "q", maxReceives: 3),
        QueueSettings(name: "q", deadLetterQueue: "d", maxReceives: 0),
        QueueSettings(name: "q", deadLetterQueue: "d", maxReceives: 1001),
        QueueSettings(name: "q", deadLetterQueue: "", maxReceives: 1),
        QueueSettings(name: "q", visibilitySeconds: 43_201),
        QueueSettings(name: "q", visibilitySeconds: -1),
        QueueSettings(name: "q", retentionSeconds: 59),
        QueueSettings(name: "q", retentionSeconds: 1_209_601),
        QueueSettings(name: "q", delaySeconds: 901),
    ])
    func invalidSettingsAreRefusedWithAReason(_ settings: QueueSettings) {
        let error = #expect(throws: ClientError.self) { try settings.attributes() }
        #expect(error?.code == "InvalidParameterValue")
        #expect(error?.message.isEmpty == false)
    }

    @Test func base64() {
        let cases: [([UInt8], String)] = [([], ""), ([0x66], "Zg=="), ([0x66, 0x6F], "Zm8="), ([0x66, 0x6F, 0x6F], "Zm9v"), ([0xFB, 0xFF], "+/8=")]
        for (bytes, text) in cases {
            #expect(Base64.encode(bytes) == text)
            #expect(Base64.decode(text) == bytes)
        }
        let all = Array(UInt8(0)...UInt8(255))
        #expect(Base64.decode(Base64.encode(all)) == all)
        for bad in ["Zg", "Zg=", "Z===", "=Zg=", "Zg==Zg==", "Zm9v!A==", "Zm 9v", "Zg=a"] {
            #expect(Base64.decode(bad) == nil, "\(bad)")
        }
    }
}
