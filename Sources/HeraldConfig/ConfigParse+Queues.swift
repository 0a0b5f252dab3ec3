import HeraldCore
import Yams

/// `queues:`: SQS-style queues with their attributes and dead-letter queues. Ranges and defaults
/// are SQS's (spec/sns-spec.md §7).
extension ConfigParse {
    static let queueKeys = [
        "name", "fifo", "visibilityTimeout", "retention", "delay", "receiveWaitTime", "maxMessageSize",
        "contentBasedDeduplication", "deadLetter",
    ]

    /// The valid queues, and every well-formed name declared (so references to a queue with other
    /// problems are not also reported as unknown).
    func queues(_ node: Node) -> (queues: [HeraldConfig.Queue], declared: Set<String>) {
        guard let items = reader.sequence(node, path: "queues") else { return ([], []) }
        var result: [HeraldConfig.Queue] = []
        var names: [(name: String, node: Node)] = []
        // Dead-letter references are checked once every queue is known (a DLQ may be declared later).
        var deadLetterNodes: [String: (queue: Node, path: String)] = [:]
        for (index, item) in items.enumerated() {
            let path = "queues[\(index)]"
            guard let map = reader.mapping(item, path: path, keys: Self.queueKeys) else { continue }
            var valid = true
            var name: String?
            if let nameNode = map.required("name", reader), let text = reader.string(nameNode, path: map.child("name")) {
                if let problem = Self.queueNameProblem(text) {
                    reader.report("\(map.child("name")): \(problem)", at: nameNode)
                    valid = false
                } else {
                    name = text
                    names.append((text, nameNode))
                }
            }
            let nameIsFIFO = name?.hasSuffix(".fifo") ?? false
            var isFIFO = nameIsFIFO
            if let fifoNode = map["fifo"], let fifo = reader.bool(fifoNode, path: map.child("fifo")) {
                if let name, fifo != nameIsFIFO {
                    let why = fifo ? "a FIFO queue's name must end in .fifo" : "a name ending in .fifo is a FIFO queue"
                    reader.report("\(map.child("fifo")): \(why) ('\(name)')", at: fifoNode)
                    valid = false
                }
                isFIFO = fifo
            }
            let seconds = { (key: String, range: ClosedRange<Int>, fallback: Int) -> Int? in
                guard let node = map[key] else { return fallback }
                return self.wholeSeconds(node, path: map.child(key), range: range)
            }
            let visibility = seconds("visibilityTimeout", 0...43_200, HeraldConfig.Queue.defaultVisibilityTimeoutSeconds)
            let retention = seconds("retention", 60...1_209_600, HeraldConfig.Queue.defaultRetentionSeconds)
            let delay = seconds("delay", 0...900, 0)
            let wait = seconds("receiveWaitTime", 0...20, 0)
            let maxSize = map["maxMessageSize"].map {
                reader.integer($0, path: map.child("maxMessageSize"), range: 1_024...1_048_576, bytes: true)
            } ?? HeraldConfig.Queue.defaultMaxMessageSize
            var contentBased = false
            if let node = map["contentBasedDeduplication"], let value = reader.bool(node, path: map.child("contentBasedDeduplication")) {
                if value, !isFIFO {
                    reader.report("\(map.child("contentBasedDeduplication")): only FIFO queues deduplicate (name the queue *.fifo)", at: node)
                    valid = false
                }
                contentBased = value
            }
            var deadLetter: HeraldConfig.DeadLetter?
            if let node = map["deadLetter"] {
                if let (value, queueNode) = self.deadLetter(node, path: map.child("deadLetter")) {
                    deadLetter = value
                    if let name { deadLetterNodes[name] = (queueNode, "\(path).deadLetter.queue") }
                } else {
                    valid = false
                }
            }
            guard valid, let name, let visibility, let retention, let delay, let wait, let maxSize else { continue }
            result.append(HeraldConfig.Queue(
                name: name, isFIFO: isFIFO, visibilityTimeoutSeconds: visibility, retentionSeconds: retention,
                delaySeconds: delay, receiveWaitTimeSeconds: wait, maxMessageSize: maxSize,
                contentBasedDeduplication: contentBased, deadLetter: deadLetter))
        }
        reportDuplicates(names, what: "queue")
        checkDeadLetters(result, nodes: deadLetterNodes, declared: Set(names.map(\.name)))
        return (result, Set(names.map(\.name)))
    }

    /// The redrive policy and the node naming its queue (for later reference problems).
    private func deadLetter(_ node: Node, path: String) -> (HeraldConfig.DeadLetter, Node)? {
        guard let map = reader.mapping(node, path: path, keys: ["queue", "maxReceiveCount"]) else { return nil }
        let queueNode = map.required("queue", reader)
        let queue = queueNode.flatMap { reader.string($0, path: map.child("queue")) }
        let count = map.required("maxReceiveCount", reader).flatMap { reader.integer($0, path: map.child("maxReceiveCount"), range: 1...1_000) }
        guard let queue, let queueNode, let count else { return nil }
        return (HeraldConfig.DeadLetter(queue: queue, maxReceiveCount: count), queueNode)
    }

    /// Unknown, self-referencing and other-type dead-letter queues, each at its `queue:` line.
    private func checkDeadLetters(_ queues: [HeraldConfig.Queue], nodes: [String: (queue: Node, path: String)], declared: Set<String>) {
        for queue in queues {
            guard let target = queue.deadLetter?.queue, let (node, path) = nodes[queue.name] else { continue }
            if target == queue.name {
                reader.report("\(path): a queue cannot be its own dead-letter queue", at: node)
            } else if let dlq = queues.first(where: { $0.name == target }) {
                if dlq.isFIFO != queue.isFIFO {
                    let kinds = queue.isFIFO ? ("FIFO", "standard") : ("standard", "FIFO")
                    reader.report("\(path): the dead-letter queue of a \(kinds.0) queue must also be \(kinds.0), '\(target)' is \(kinds.1)", at: node)
                }
            } else if !declared.contains(target) {
                reader.report("\(path): unknown queue '\(target)' (declare it under queues:)", at: node)
            }
            // A declared target that failed its own checks was reported there already.
        }
    }

    /// SQS's rule: 1–80 characters of `A-Za-z0-9-_`, a FIFO queue's ending in `.fifo`.
    static func queueNameProblem(_ name: String) -> String? {
        if name.isEmpty || name.count > 80 { return "a queue name must have 1 to 80 characters (including .fifo)" }
        let base = name.hasSuffix(".fifo") ? String(name.dropLast(5)) : name
        if base.isEmpty || !base.allSatisfy({ TopicName.isNameCharacter($0) }) {
            return "queue name '\(name)' may only use A-Z a-z 0-9 _ - (and end in .fifo for a FIFO queue)"
        }
        return nil
    }

    /// A duration that must be a whole number of seconds in `range` (SQS attributes are seconds).
    func wholeSeconds(_ node: Node, path: String, range: ClosedRange<Int>) -> Int? {
        let bounds = Duration.seconds(range.lowerBound)...Duration.seconds(range.upperBound)
        guard let duration = reader.duration(node, path: path, range: bounds) else { return nil }
        let (seconds, attoseconds) = duration.components
        guard attoseconds == 0 else {
            reader.report("\(path): must be a whole number of seconds, found \(ConfigValues.text(duration))", at: node)
            return nil
        }
        return Int(seconds)
    }
}
