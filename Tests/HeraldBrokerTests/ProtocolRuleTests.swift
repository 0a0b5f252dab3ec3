import HeraldCore
import Testing
@testable import HeraldBroker

/// Broker answers that docs/PROTOCOL.md names: a sid in use is `DuplicateSubscription` (§3 SUB,
/// §7.1).
@Suite struct ProtocolRuleTests {
    @Test func aSidInUseIsDuplicateSubscriptionAndChangesNothing() throws {
        let (broker, _) = try makeBroker(topics: ["orders", "other"])
        let sink = RecordingSink()
        let handle = try broker.attachSession(SessionID("s"), sink: sink, now: 0)
        try broker.subscribe(handle, sid: "7", topic: "orders", policy: nil, ackMode: .auto, credit: 5)
        for (topic, mode) in [("orders", AckMode.auto), ("other", .explicit)] {
            #expect(throws: BrokerError.duplicateSubscription(sid: "7")) {
                try broker.subscribe(handle, sid: "7", topic: topic, policy: nil, ackMode: mode, credit: 5)
            }
        }
        let error = BrokerError.duplicateSubscription(sid: "7")
        #expect(error.code == HeraldErrorCode.duplicateSubscription.rawValue)
        #expect(error.message.contains("7"))
        #expect(broker.subscriptionCount(topic: "orders") == 1 && broker.subscriptionCount(topic: "other") == 0)
        _ = broker.publish([request("orders", "m0")])
        #expect(sink.bodies == ["m0"])
    }
}
