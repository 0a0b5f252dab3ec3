import HeraldCore
import Testing
@testable import HeraldConfig

/// HTTP/S subscriptions, topic delivery policies and `httpDelivery:`. `minimalConfig` has 5
/// lines, so appended text starts at line 6.
@Suite struct ConfigHTTPSubscriptionTests {
    @Test func anHTTPSubscriptionWithItsPolicies() throws {
        let yaml = minimalConfig + """
            queues: [{name: hooks-dlq}]
            topics:
              - name: orders
                deliveryPolicy: {http: {defaultHealthyRetryPolicy: {numRetries: 5, minDelayTarget: 1, maxDelayTarget: 10}}}
            subscriptions:
              - name: billing
                topic: orders
                protocol: https
                endpoint: https://user:secret@billing.internal/hooks/orders
                rawMessageDelivery: true
                deliveryPolicy: '{"healthyRetryPolicy":{"numRetries":2,"numNoDelayRetries":2,"minDelayTarget":1,"maxDelayTarget":1}}'
                redrivePolicy: {deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:hooks-dlq"}
                confirm: true
            httpDelivery: {caFile: server.pem, timeout: 5s, maxConnectionsPerEndpoint: 4}
            """
        let config = try #require(try validConfig(yaml))
        let subscription = try #require(config.subscriptions.first)
        #expect(subscription.protocol == .https)
        #expect(subscription.endpoint == "https://user:secret@billing.internal/hooks/orders")
        #expect(subscription.rawMessageDelivery)
        #expect(subscription.confirm)
        #expect(subscription.deliveryPolicy != nil)
        #expect(subscription.redrivePolicy?.deadLetterQueue == "hooks-dlq")
        #expect(config.topics.first?.deliveryPolicy != nil)
        #expect(config.httpDelivery.caFile?.hasSuffix("/server.pem") == true)
        #expect(config.httpDelivery.timeout == .seconds(5))
        #expect(config.httpDelivery.maxConnectionsPerEndpoint == 4)
    }

    @Test func declaredSubscriptionsAreConfirmedByDefault() throws {
        let yaml = minimalConfig + """
            topics: [orders]
            subscriptions: [{name: hook, topic: orders, protocol: http, endpoint: "http://127.0.0.1:9000/"}]
            """
        let subscription = try #require(try validConfig(yaml)?.subscriptions.first)
        #expect(subscription.confirm == false)
        #expect(subscription.deliveryPolicy == nil && subscription.redrivePolicy == nil)
        #expect(try validConfig(minimalConfig)?.httpDelivery == HeraldConfig.HTTPDelivery())
    }

    @Test func problemsHaveTheirLines() throws {
        let found = try configProblems(minimalConfig + """
            queues: [{name: dlq}]
            topics: [orders, sales.fifo]
            subscriptions:
              - {name: a, topic: orders, protocol: https, endpoint: "http://x/"}
              - {name: b, topic: orders, protocol: http}
              - {name: c, topic: orders, protocol: http, endpoint: "http:///path"}
              - {name: d, topic: orders, protocol: http, endpoint: "http://x/", redrivePolicy: {deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:nope"}}
              - {name: e, topic: orders, protocol: http, endpoint: "http://x/", queue: dlq}
              - {name: f, topic: sales.fifo, protocol: http, endpoint: "http://x/"}
              - {name: g, topic: orders, protocol: sqs, queue: dlq, endpoint: "http://x/"}
              - {name: h, topic: orders, protocol: http, endpoint: "http://x/", deliveryPolicy: [1]}
            httpDelivery: {timeout: 0s, maxConnectionsPerEndpoint: 0, caFile: missing.pem}
            """)
        #expect(found.at(9, "subscriptions[0].endpoint: 'http://x/': Invalid parameter: Endpoint must match the specified protocol") != nil)
        #expect(found.at(10, "subscriptions[1]: missing required key 'endpoint'") != nil)
        #expect(found.at(11, "the host is missing") != nil)
        #expect(found.at(12, "unknown dead-letter queue 'nope'") != nil)
        #expect(found.at(13, "subscriptions[4].queue: not for protocol: http") != nil)
        #expect(found.at(14, "FIFO topics deliver to SQS queues only") != nil)
        #expect(found.at(15, "subscriptions[6].endpoint: only for protocol: http or https") != nil)
        #expect(found.at(16, "subscriptions[7].deliveryPolicy: expected a mapping or a JSON string") != nil)
        #expect(found.at(17, "httpDelivery.timeout") != nil)
        #expect(found.at(17, "httpDelivery.maxConnectionsPerEndpoint") != nil)
        #expect(found.at(17, "httpDelivery.caFile: '") != nil)
    }

    @Test func aChangedDeliverySettingNeedsARestart() throws {
        let old = try #require(try validConfig(minimalConfig))
        var new = old
        new.httpDelivery.timeout = .seconds(3)
        #expect(new.changesNeedingRestart(from: old).contains("httpDelivery changed: restart to apply"))
    }
}

/// `aws: {region, account}`.
@Suite struct ConfigAWSIdentityTests {
    @Test func regionAndAccount() throws {
        #expect(try validConfig(minimalConfig)?.aws == HeraldConfig.AWSIdentity(region: "us-east-1", account: "000000000000"))
        let config = try #require(try validConfig(minimalConfig + "aws: {region: eu-central-2, account: \"123456789012\"}\n"))
        #expect(config.aws == HeraldConfig.AWSIdentity(region: "eu-central-2", account: "123456789012"))
        let found = try configProblems(minimalConfig + "aws: {region: Europe, account: \"12\"}\n")
        #expect(found.at(6, "aws.region: 'Europe' is not a region name like us-east-1") != nil)
        #expect(found.at(6, "aws.account: an account id has 12 digits") != nil)
    }
}
