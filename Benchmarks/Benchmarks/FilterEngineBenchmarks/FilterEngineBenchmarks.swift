import Benchmark
import FilterPolicy
import HeraldCore

/// Matching throughput of one topic's compiled `PolicyMatcher` with 1, 100, 1,000 and 10,000
/// realistic mixed policies (seeded), in attribute scope and in body scope. One benchmark
/// iteration matches one message; the cost per message should stay nearly flat as policies grow.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )
    for count in [1, 100, 1_000, 10_000] {
        for scope in [FilterPolicyScope.messageAttributes, .messageBody] {
            var workload = Workload(seed: 2026)
            let matcher = workload.matcher(policies: count, scope: scope)
            let messages = workload.messages(256, scope: scope)
            let name = scope == .messageAttributes ? "attributes" : "body"
            Benchmark("\(name) \(count) policies") { benchmark in
                let scratch = MatchScratch()
                var total = 0
                benchmark.startMeasurement()
                for i in benchmark.scaledIterations {
                    let message = messages[i & 255]
                    total &+= message.body.withUnsafeBytes {
                        matcher.match(attributes: message.attributes, body: $0, scratch: scratch)
                    }
                }
                blackHole(total)
            }
        }
    }
}

/// Seeded policies and messages shaped like an order-events topic: a few string fields with large
/// vocabularies, numbers, tags (String.Array in attributes, arrays in bodies), an IP, nesting.
struct Workload {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { random.next() }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    static let eventTypes = (0..<50).map { "event_\($0)" }
    static let regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1"]

    func customer(_ i: Int) -> String { "customer-\(i)" }

    /// Selective policies, as subscriptions on a busy topic usually are (one customer, one tag, one
    /// source…), with a few broad conditions mixed in (anything-but, numeric, exists): expected
    /// matches per message stay small as the policy count grows.
    mutating func policyText(scope: FilterPolicyScope) -> String {
        // Body policies nest "detail"; attribute policies use flat names.
        let d = scope == .messageBody ? "detail." : ""
        var keys: [String] = []
        switch below(20) {
        case 0..<8: keys.append("\"\(d)customer\": [\"\(customer(below(5000)))\"]")
        case 8..<11: keys.append("\"\(d)customer\": [{\"prefix\": \"customer-\(100 + below(900))\"}]")
        case 11..<13: keys.append("\"\(d)customer\": [{\"suffix\": \"-\(1000 + below(4000))\"}]")
        case 13..<16: keys.append("\"\(d)tags\": [\"tag\(below(2000))\"]")
        case 16..<18: keys.append("\"\(d)source\": [{\"equals-ignore-case\": \"SRC-\(below(3000))\"}]")
        default:
            keys.append("\"type\": [\"\(Self.eventTypes[below(50)])\"]")
            keys.append("\"\(d)region\": [\"\(Self.regions[below(6)])\"]")
        }
        switch below(20) {
        case 0..<4:
            let low = below(1000)
            keys.append("\"\(d)amount\": [{\"numeric\": [\">\", \(low), \"<=\", \(low + 20)]}]")
        case 4: keys.append("\"\(d)region\": [{\"anything-but\": [\"\(Self.regions[below(6)])\"]}]")
        case 5: keys.append("\"\(d)priority\": [{\"exists\": \(below(2) == 0)}]")
        default: break
        }
        return "{" + keys.joined(separator: ", ") + "}"
    }

    mutating func matcher(policies count: Int, scope: FilterPolicyScope) -> PolicyMatcher {
        var builder = PolicyMatcherBuilder()
        var added = 0
        while added < count {
            guard let policy = try? FilterPolicy.parse(policyText(scope: scope), scope: scope) else { continue }
            builder.add(added, policy)
            added += 1
        }
        return builder.build()
    }

    mutating func messages(_ count: Int, scope: FilterPolicyScope) -> [(attributes: MessageAttributes, body: [UInt8])] {
        (0..<count).map { _ in
            let type = Self.eventTypes[below(50)]
            let customer = customer(below(5000))
            let region = Self.regions[below(6)]
            let amount = below(1000)
            let tags = (0..<1 + below(3)).map { _ in "\"tag\(below(2000))\"" }.joined(separator: ",")
            let source = "src-\(below(3000))"
            if scope == .messageAttributes {
                var attributes: MessageAttributes = [
                    "type": .string(type), "customer": .string(customer), "region": .string(region),
                    "amount": .number(String(amount)), "tags": .stringArray(json: "[\(tags)]"), "source": .string(source),
                ]
                if below(2) == 0 { attributes["priority"] = .string("high") }
                return (attributes, [])
            }
            let priority = below(2) == 0 ? ",\"priority\":\"high\"" : ""
            let body = """
                {"type":"\(type)","id":"\(next())","time":"2026-11-27T01:00:00Z","detail":{"customer":"\(customer)",\
                "region":"\(region)","amount":\(amount).5,"tags":[\(tags)],"source":"\(source)"\(priority),\
                "items":[{"sku":"A-1","qty":2,"price":12.5},{"sku":"B-7","qty":1,"price":99.99}],"ip":"10.1.2.3"}}
                """
            return ([:], Array(body.utf8))
        }
    }
}
