// Fan-out correctness end to end: 200 subscriber connections, each with its own seeded random
// filter policy, receive exactly what `ReferenceEvaluator` selects from a few hundred messages.
import Dispatch
import FilterPolicy
import Foundation
import HeraldClient
import HeraldCore
import HeraldTestSupport
import HeraldWire
import Synchronization
import Testing
@testable import HeraldServer

extension Integration {
    @Suite struct FanOut {
        static let subscriberCount = 200
        static let messageCount = 300

        @Test func twoHundredSubscribersGetExactlyWhatTheirPoliciesSelect() throws {
            let server = try TestServer()
            defer { server.stop() }
            let topic = "fanout"
            var rng = SplitMix64(seed: 0x4E52_414C_4421)

            // Policies: distinct, valid, a mix of scopes and operators.
            var policies: [(text: String, scope: FilterScopeChoice, parsed: FilterPolicy)] = []
            var seen = Set<String>()
            while policies.count < Self.subscriberCount {
                let scope: FilterScopeChoice = rng.next(100) < 35 ? .body : .attributes
                let text = PolicyGenerator.policy(scope: scope, rng: &rng)
                guard seen.insert("\(scope)\(text)").inserted,
                      let parsed = try? FilterPolicy.parse(text, scope: scope.filterScope) else { continue }
                policies.append((text, scope, parsed))
            }
            // Messages: the last one is the sentinel every connection's second subscription waits for.
            var messages: [(attributes: MessageAttributes, body: [UInt8])] = (0..<Self.messageCount - 1).map { index in
                (PolicyGenerator.attributes(rng: &rng), PolicyGenerator.body(index: index, rng: &rng))
            }
            var sentinelAttributes = PolicyGenerator.attributes(rng: &rng)
            sentinelAttributes["sentinel"] = .string("end")
            messages.append((sentinelAttributes, PolicyGenerator.body(index: Self.messageCount - 1, rng: &rng)))

            let expected: [[Int]] = policies.map { policy in
                messages.indices.filter { ReferenceEvaluator.matches(policy.parsed, attributes: messages[$0].attributes, body: messages[$0].body) }
            }
            // The test only means something if policies select different, non-trivial subsets.
            let selective = expected.filter { !$0.isEmpty && $0.count < Self.messageCount }.count
            #expect(selective >= Self.subscriberCount / 2, "most random policies select a proper subset")
            #expect(Set(expected).count >= Self.subscriberCount / 2, "the selections differ")

            let subscriptions = policies.map { (text: $0.text, scope: $0.scope.wireScope) }
            // 200 connections, each: sid A = its policy, sid B = waits for the sentinel.
            let clients = Mutex<[HeraldClient?]>(Array(repeating: nil, count: Self.subscriberCount))
            let failures = Collector<String>()
            let received = (0..<Self.subscriberCount).map { _ in Collector<ClientDelivery>() }
            let sentinels = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: Self.subscriberCount) { index in
                do {
                    let client = try server.client()
                    clients.withLock { $0[index] = client }
                    let collector = received[index]
                    _ = try client.subscribe(topic: topic, policy: subscriptions[index].text, scope: subscriptions[index].scope, ackMode: .auto, credit: 1000) {
                        collector.append($0)
                    }
                    _ = try client.subscribe(topic: topic, policy: #"{"sentinel":["end"]}"#, ackMode: .auto, credit: 10) { _ in
                        sentinels.add(1, ordering: .relaxed)
                    }
                } catch {
                    failures.append("subscriber \(index): \(error)")
                }
            }
            defer { for client in clients.withLock({ $0 }) { client?.close() } }
            try #require(failures.all.isEmpty, "\(failures.all.prefix(5))")

            let publisher = try server.client()
            defer { publisher.close() }
            let results = publishAll(publisher, topic: topic, count: messages.count) { messages[$0] }
            var indexByID: [MessageID: Int] = [:]
            for (index, result) in results.enumerated() {
                guard case .success(let id)? = result else {
                    Issue.record("publish \(index) was not confirmed: \(String(describing: result))")
                    continue
                }
                indexByID[id] = index
            }
            try #require(indexByID.count == messages.count)

            // Per connection, deliveries are in publish order across its subscriptions: once the
            // sentinel arrived on sid B, everything sid A will ever get from this batch is there.
            #expect(waitUntil(.seconds(30)) { sentinels.load(ordering: .relaxed) == Self.subscriberCount },
                    "every connection saw the sentinel (\(sentinels.load(ordering: .relaxed)))")

            var mismatches = 0
            for index in 0..<Self.subscriberCount {
                let got = received[index].all
                let gotIndices = got.map { indexByID[$0.messageID] ?? -1 }
                if gotIndices != expected[index] {
                    mismatches += 1
                    if mismatches <= 5 {
                        let missing = Set(expected[index]).subtracting(gotIndices).sorted()
                        let extra = Set(gotIndices).subtracting(expected[index]).sorted()
                        Issue.record("subscriber \(index) \(policies[index].scope) \(policies[index].text): missing \(missing.prefix(10)), extra \(extra.prefix(10)), order ok: \(Set(gotIndices) == Set(expected[index]))")
                    }
                }
                for delivery in got {
                    guard let m = indexByID[delivery.messageID] else { continue }
                    if delivery.body != messages[m].body || delivery.attributes != messages[m].attributes || delivery.redelivered {
                        Issue.record("subscriber \(index): message \(m) arrived altered")
                        break
                    }
                }
            }
            #expect(mismatches == 0)
            #expect(server.server.broker.stats.published == UInt64(messages.count))
        }
    }
}

enum FilterScopeChoice: CustomStringConvertible {
    case attributes, body
    var filterScope: FilterPolicyScope { self == .body ? .messageBody : .messageAttributes }
    var wireScope: FilterScope { self == .body ? .messageBody : .messageAttributes }
    var description: String { self == .body ? "MessageBody" : "MessageAttributes" }
}

/// Draws for the integration tests' random policies and messages (HeraldCore's seeded
/// generator, so a failure reproduces).
extension SplitMix64 {
    /// 0..<bound
    mutating func next(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func pick<T>(_ items: [T]) -> T { items[next(items.count)] }
    mutating func chance(_ percent: Int) -> Bool { next(100) < percent }
}

/// Random messages and policies over one small vocabulary, so policies actually hit.
enum PolicyGenerator {
    static let colors = ["red", "green", "blue", "Red", "yellow"]
    static let regions = ["eu-west-1", "eu-central-1", "us-east-1", "ap-south-1"]
    static let kinds = ["order", "refund", "Order", "audit"]
    static let tags = ["a", "b", "c"]

    static func number(rng: inout SplitMix64) -> String {
        switch rng.next(4) {
        case 0: return String(rng.next(200) - 50)
        case 1: return "\(rng.next(100)).\(rng.next(10))"
        case 2: return String(rng.pick([0, 10, 42, 100]))
        default: return "\(rng.next(20))e1"
        }
    }

    static func attributes(rng: inout SplitMix64) -> MessageAttributes {
        var a: MessageAttributes = [:]
        if rng.chance(75) { a["color"] = .string(rng.pick(colors)) }
        if rng.chance(75) { a["size"] = .number(number(rng: &rng)) }
        if rng.chance(70) { a["region"] = .string(rng.pick(regions)) }
        if rng.chance(50) {
            let chosen = tags.filter { _ in rng.chance(50) }.map { "\"\($0)\"" }
            a["tags"] = .stringArray(json: "[" + chosen.joined(separator: ",") + "]")
        }
        if rng.chance(50) { a["flag"] = .string(rng.pick(["true", "false"])) }
        return a
    }

    static func body(index: Int, rng: inout SplitMix64) -> [UInt8] {
        if rng.chance(10) { return Array("plain text body \(index)".utf8) }
        var fields: [String] = ["\"n\":\(index)"]
        if rng.chance(75) { fields.append("\"color\":\"\(rng.pick(colors))\"") }
        if rng.chance(75) { fields.append("\"size\":\(number(rng: &rng))") }
        if rng.chance(70) { fields.append("\"region\":\"\(rng.pick(regions))\"") }
        if rng.chance(70) {
            var detail: [String] = []
            if rng.chance(80) { detail.append("\"kind\":\"\(rng.pick(kinds))\"") }
            if rng.chance(60) { detail.append("\"level\":\(rng.next(5))") }
            fields.append("\"detail\":{" + detail.joined(separator: ",") + "}")
        }
        return Array(("{" + fields.joined(separator: ",") + "}").utf8)
    }

    static func stringCondition(_ values: [String], rng: inout SplitMix64) -> String {
        switch rng.next(8) {
        case 0: return "\"\(rng.pick(values))\""
        case 1: return "{\"prefix\":\"\(String(rng.pick(values).prefix(2 + rng.next(2))))\"}"
        case 2: return "{\"suffix\":\"\(String(rng.pick(values).suffix(1 + rng.next(2))))\"}"
        case 3: return "{\"anything-but\":[\"\(rng.pick(values))\",\"\(rng.pick(values))\"]}"
        case 4: return "{\"equals-ignore-case\":\"\(rng.pick(values).uppercased())\"}"
        case 5: return "{\"exists\":\(rng.chance(50))}"
        case 6: return "{\"anything-but\":{\"prefix\":\"\(String(rng.pick(values).prefix(2)))\"}}"
        default: return "\"\(rng.pick(values))\",\"\(rng.pick(values))\""
        }
    }

    static func numberCondition(rng: inout SplitMix64) -> String {
        switch rng.next(5) {
        case 0: return "{\"numeric\":[\">\",\(rng.next(100))]}"
        case 1: return "{\"numeric\":[\">=\",\(rng.next(50)),\"<\",\(50 + rng.next(100))]}"
        case 2: return "{\"numeric\":[\"=\",\(rng.pick([0, 10, 42, 100]))]}"
        case 3: return "{\"numeric\":[\"<=\",\(rng.next(60) - 20)]}"
        default: return "{\"exists\":\(rng.chance(70))}"
        }
    }

    static func policy(scope: FilterScopeChoice, rng: inout SplitMix64) -> String {
        var keys = ["color", "size", "region"] + (scope == .attributes ? ["tags", "flag"] : ["detail"])
        var parts: [String] = []
        for _ in 0..<(1 + rng.next(3)) {
            let key = keys.remove(at: rng.next(keys.count))
            switch key {
            case "color": parts.append("\"color\":[\(stringCondition(colors, rng: &rng))]")
            case "region": parts.append("\"region\":[\(stringCondition(regions, rng: &rng))]")
            case "size": parts.append("\"size\":[\(numberCondition(rng: &rng))]")
            case "tags": parts.append("\"tags\":[\"\(rng.pick(tags))\"]")
            case "flag": parts.append("\"flag\":[\"\(rng.pick(["true", "false"]))\"]")
            default:
                var inner = ["\"kind\":[\(stringCondition(kinds, rng: &rng))]"]
                if rng.chance(40) { inner.append("\"level\":[\(numberCondition(rng: &rng))]") }
                parts.append("\"detail\":{" + inner.joined(separator: ",") + "}")
            }
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}
