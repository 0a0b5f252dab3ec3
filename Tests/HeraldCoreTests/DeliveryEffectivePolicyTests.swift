import Testing
import HeraldCore

/// The merge SNS defaults ← topic ← subscription, and the EffectiveDeliveryPolicy texts.
@Suite struct DeliveryEffectivePolicyTests {
    let topicRetry = HTTPRetryPolicy(minDelayTarget: 5, maxDelayTarget: 10, numRetries: 6, backoffFunction: .geometric)
    let subscriptionRetry = HTTPRetryPolicy(minDelayTarget: 1, maxDelayTarget: 2, numRetries: 1)

    @Test func snsDefaultsWithoutPolicies() {
        let effective = EffectiveHTTPDeliveryPolicy(topic: nil, subscription: nil)
        #expect(effective.retry == .snsDefault)
        #expect(effective.maxReceivesPerSecond == nil)
        #expect(effective.headerContentType == "text/plain; charset=UTF-8")
        // SNS's recorded shape (spec §5.2 [VERIFIED]).
        #expect(effective.jsonText == #"{"healthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":null,"requestPolicy":{"headerContentType":"text/plain; charset=UTF-8"},"guaranteed":false}"#)
    }

    @Test func topicOverridesDefaultsPartByPart() {
        let topic = HTTPTopicDeliveryPolicy(defaultThrottlePolicy: HTTPThrottlePolicy(maxReceivesPerSecond: 4))
        let effective = EffectiveHTTPDeliveryPolicy(topic: topic, subscription: nil)
        #expect(effective.retry == .snsDefault)
        #expect(effective.maxReceivesPerSecond == 4)
        #expect(effective.headerContentType == HTTPRequestPolicy.snsDefaultContentType)
    }

    @Test func subscriptionOverridesTopicPartByPart() {
        let topic = HTTPTopicDeliveryPolicy(
            defaultHealthyRetryPolicy: topicRetry, defaultThrottlePolicy: HTTPThrottlePolicy(maxReceivesPerSecond: 4),
            defaultRequestPolicy: HTTPRequestPolicy(headerContentType: "application/json"))
        let subscription = HTTPDeliveryPolicy(
            healthyRetryPolicy: subscriptionRetry, requestPolicy: HTTPRequestPolicy(headerContentType: "text/csv"))
        let effective = EffectiveHTTPDeliveryPolicy(topic: topic, subscription: subscription)
        #expect(effective.retry == subscriptionRetry)
        #expect(effective.maxReceivesPerSecond == 4)     // the subscription sets no throttle: the topic's stays
        #expect(effective.headerContentType == "text/csv")
        #expect(effective.jsonText == #"{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":2,"numRetries":1,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":{"maxReceivesPerSecond":4},"requestPolicy":{"headerContentType":"text/csv"},"guaranteed":false}"#)
    }

    @Test func disableSubscriptionOverridesIgnoresTheSubscription() {
        let subscription = HTTPDeliveryPolicy(
            healthyRetryPolicy: subscriptionRetry, throttlePolicy: HTTPThrottlePolicy(maxReceivesPerSecond: 9),
            requestPolicy: HTTPRequestPolicy(headerContentType: "text/csv"))
        let locked = HTTPTopicDeliveryPolicy(defaultHealthyRetryPolicy: topicRetry, disableSubscriptionOverrides: true)
        let effective = EffectiveHTTPDeliveryPolicy(topic: locked, subscription: subscription)
        #expect(effective.retry == topicRetry)
        #expect(effective.maxReceivesPerSecond == nil)
        #expect(effective.headerContentType == HTTPRequestPolicy.snsDefaultContentType)
        // The same topic without the switch lets the subscription win.
        var open = locked
        open.disableSubscriptionOverrides = false
        let overridden = EffectiveHTTPDeliveryPolicy(topic: open, subscription: subscription)
        #expect(overridden.retry == subscriptionRetry)
        #expect(overridden.maxReceivesPerSecond == 9)
        #expect(overridden.headerContentType == "text/csv")
    }

    @Test func effectiveTextParsesBackAsASubscriptionPolicy() throws {
        let effective = EffectiveHTTPDeliveryPolicy(
            topic: HTTPTopicDeliveryPolicy(defaultThrottlePolicy: HTTPThrottlePolicy(maxReceivesPerSecond: 2)),
            subscription: HTTPDeliveryPolicy(healthyRetryPolicy: topicRetry))
        let parsed = try HTTPDeliveryPolicy.parse(Array(effective.jsonText.utf8), rawMessageDelivery: false)
        #expect(parsed.healthyRetryPolicy == topicRetry)
        #expect(parsed.throttlePolicy?.maxReceivesPerSecond == 2)
        #expect(parsed.requestPolicy?.headerContentType == HTTPRequestPolicy.snsDefaultContentType)
    }

    @Test func topicEffectiveText() throws {
        // SNS's recorded default for a topic (spec §5.2 [VERIFIED]).
        #expect(HTTPTopicDeliveryPolicy.effectiveJSONText(nil) == #"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#)
        let topic = HTTPTopicDeliveryPolicy(
            defaultHealthyRetryPolicy: topicRetry, disableSubscriptionOverrides: true,
            defaultThrottlePolicy: HTTPThrottlePolicy(maxReceivesPerSecond: 3))
        let text = HTTPTopicDeliveryPolicy.effectiveJSONText(topic)
        #expect(text.contains(#""disableSubscriptionOverrides":true,"defaultThrottlePolicy":{"maxReceivesPerSecond":3}"#))
        var expected = topic
        expected.defaultRequestPolicy = HTTPRequestPolicy()
        #expect(try HTTPTopicDeliveryPolicy.parse(Array(text.utf8)) == expected)
    }
}
