import ArgumentParser
import FilterPolicy
import Foundation
import HeraldCore

/// `herald bench …`: local benchmarks. Each benchmark is a subcommand in its own file.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks.",
        // Register further benchmarks here (e.g. `BenchLoadCommand.self` from its own file).
        subcommands: [BenchFilterCommand.self, BenchLoadCommand.self, BenchChurnCommand.self, BenchQueueCommand.self, BenchHTTPCommand.self, BenchHTTPSinkCommand.self, BenchAPICommand.self]
    )
}

/// `herald bench filter`: filter-policy matching throughput of the compiled `PolicyMatcher`, on one
/// core (this thread), with every event loaded into memory first and only matching timed.
struct BenchFilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Measures filter-policy matching throughput (events/s on one core).",
        discussion: """
            --policies: a JSON array of policies (one group named "policies"), or an object whose \
            members are named arrays of policies (one group each; members starting with "_" are ignored).
            --events: one message per line. MessageBody scope: the line is the body. MessageAttributes \
            scope: the line is an object of attributes, {"NAME": {"Type": "String", "Value": "x"}, …} \
            ("DataType"/"StringValue" are accepted too; a JSON number as Value is taken as its text; \
            a Binary value is the UTF-8 of its text).
            Output: one line per group, "<group> <events/s> <total matches>" (matches over one pass), \
            or "<group> rejected: <reason>" when Herald rejects one of its policies. Each group's pass \
            is repeated until at least one second has elapsed.
            """
    )

    @Option(help: "JSON file of policies (array, or object of named arrays).")
    var policies: String

    @Option(help: "Events file, one message per line.")
    var events: String

    @Option(help: "MessageBody or MessageAttributes.")
    var scope: String = FilterPolicyScope.messageBody.rawValue

    @Option(help: "Minimum timed duration per group, in seconds.")
    var seconds: Double = 1

    @Option(help: "Also check this many events (from the start) against ReferenceEvaluator, untimed.")
    var verify: Int = 0

    mutating func run() throws {
        guard let scope = FilterPolicyScope(rawValue: scope) else {
            throw ValidationError("--scope must be MessageBody or MessageAttributes")
        }
        let groups = try loadPolicyGroups(path: policies)
        let events = try EventSet.load(path: events, scope: scope)
        print("# \(events.count) events, scope \(scope.rawValue), one core")
        for group in groups {
            var builder = PolicyMatcherBuilder()
            var parsed: [FilterPolicy] = []
            var rejection: String?
            for (index, text) in group.policies.enumerated() {
                do {
                    let policy = try FilterPolicy.parse(text, scope: scope)
                    parsed.append(policy)
                    builder.add(index, policy)
                } catch {
                    rejection = error.reason
                    break
                }
            }
            if let rejection {
                print("\(group.name) rejected: \(rejection)")
                continue
            }
            let matcher = builder.build()
            let (rate, matches) = events.measure(matcher, minimumSeconds: seconds)
            print("\(group.name) \(Int(rate.rounded())) \(matches)")
            if verify > 0 {
                let (checked, disagreements) = events.verify(matcher, parsed, limit: verify)
                print("# \(group.name) verified \(checked) events against ReferenceEvaluator: \(disagreements) disagreements")
            }
        }
    }

    /// Policy groups, each policy re-serialised to text for `FilterPolicy.parse`.
    private func loadPolicyGroups(path: String) throws -> [(name: String, policies: [String])] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        let json: JSONValue
        do {
            json = try FilterPolicy.parseJSON(Array(data), maxDepth: 256)
        } catch {
            throw ValidationError("\(path): \(error.reason)")
        }
        func texts(_ value: JSONValue, _ name: String) throws -> [String] {
            guard case .array(let items) = value else { throw ValidationError("\(path): \(name) is not an array of policies") }
            return items.map(\.text)
        }
        switch json {
        case .array:
            return [("policies", try texts(json, "the file"))]
        case .object(let members):
            return try members.filter { !$0.key.hasPrefix("_") }.map { ($0.key, try texts($0.value, $0.key)) }
        default:
            throw ValidationError("\(path): expected an array or an object of arrays")
        }
    }
}

/// Every event of the file in memory: bodies packed in one buffer, or parsed attribute sets.
private struct EventSet {
    var scope: FilterPolicyScope
    var bytes: [UInt8] = []
    var offsets: [Int] = [0]
    var attributes: [MessageAttributes] = []

    var count: Int { scope == .messageBody ? offsets.count - 1 : attributes.count }

    static func load(path: String, scope: FilterPolicyScope) throws -> EventSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        var set = EventSet(scope: scope)
        let all = [UInt8](data)
        var lineNumber = 0
        for line in all.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            lineNumber += 1
            var line = line
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            if scope == .messageBody {
                set.bytes.append(contentsOf: line)
                set.offsets.append(set.bytes.count)
            } else {
                set.attributes.append(try parseAttributes(Array(line), line: lineNumber))
            }
        }
        return set
    }

    static func parseAttributes(_ line: [UInt8], line number: Int) throws -> MessageAttributes {
        guard case .object(let members)? = try? FilterPolicy.parseJSON(line, maxDepth: 16) else {
            throw ValidationError("events line \(number): not a JSON object of attributes")
        }
        var result: MessageAttributes = [:]
        for member in members {
            let type = member.value["Type"] ?? member.value["DataType"]
            let value = member.value["Value"] ?? member.value["StringValue"]
            guard case .string(let dataType)? = type else {
                throw ValidationError("events line \(number): attribute \(member.key) has no Type")
            }
            let text: String
            switch value {
            case .string(let s)?: text = s
            case .number(let s)?: text = s
            default: throw ValidationError("events line \(number): attribute \(member.key) has no Value")
            }
            let attribute = MessageAttributeValue(dataType: dataType, payload: .string(text))
            result[member.key] = attribute.filterKind == .binary
                ? MessageAttributeValue(dataType: dataType, payload: .binary(Array(text.utf8))) : attribute
        }
        return result
    }

    /// Events per second over repeated passes (at least `minimumSeconds`), and the matches of one pass.
    func measure(_ matcher: PolicyMatcher, minimumSeconds: Double) -> (Double, Int) {
        let scratch = MatchScratch()
        let clock = ContinuousClock()
        var passes = 0
        var matches = 0
        let start = clock.now
        var elapsed = Duration.zero
        repeat {
            let passMatches = onePass(matcher, scratch)
            if passes == 0 { matches = passMatches }
            passes += 1
            elapsed = clock.now - start
        } while elapsed < .seconds(minimumSeconds)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return (Double(passes * count) / seconds, matches)
    }

    /// Compares the matcher with `ReferenceEvaluator` on the first `limit` events.
    func verify(_ matcher: PolicyMatcher, _ policies: [FilterPolicy], limit: Int) -> (Int, Int) {
        var disagreements = 0
        let n = Swift.min(limit, count)
        for i in 0..<n {
            let attributes = scope == .messageBody ? [:] : self.attributes[i]
            let body = scope == .messageBody ? Array(bytes[offsets[i]..<offsets[i + 1]]) : []
            let input = scope == .messageBody ? FilterInput.body(body) : FilterInput.attributes(attributes)
            let expected = policies.indices.filter { ReferenceEvaluator.matches(policies[$0], input) }
            if matcher.matches(attributes: attributes, body: body).sorted() != expected { disagreements += 1 }
        }
        return (n, disagreements)
    }

    private func onePass(_ matcher: PolicyMatcher, _ scratch: MatchScratch) -> Int {
        var matches = 0
        if scope == .messageBody {
            let empty: MessageAttributes = [:]
            bytes.withUnsafeBytes { all in
                for i in 0..<(offsets.count - 1) {
                    let body = UnsafeRawBufferPointer(rebasing: all[offsets[i]..<offsets[i + 1]])
                    matches += matcher.match(attributes: empty, body: body, scratch: scratch)
                }
            }
        } else {
            let none = UnsafeRawBufferPointer(start: nil, count: 0)
            for event in attributes {
                matches += matcher.match(attributes: event, body: none, scratch: scratch)
            }
        }
        return matches
    }
}
