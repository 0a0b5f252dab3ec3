import Yams

/// `consumers:`: managed queue consumers (ConfigModel+Consumers.swift). Every problem is reported
/// at its line; a consumer naming a queue not declared under `queues:` is one of them.
extension ConfigParse {
    static let consumerKeys = [
        "name", "queue", "endpoint", "batchSize", "maxBatchingWindow", "maxConcurrency", "reportBatchItemFailures", "timeout",
    ]

    /// `declared`: every well-formed queue name under `queues:` (a queue with other problems was
    /// reported there, so naming it is not also "unknown"); `queues`: the valid ones (their type).
    func consumers(_ node: Node, queues: [HeraldConfig.Queue], declared: Set<String>) -> [HeraldConfig.Consumer] {
        guard let items = reader.sequence(node, path: "consumers") else { return [] }
        typealias Consumer = HeraldConfig.Consumer
        var result: [Consumer] = []
        var names: [(name: String, node: Node)] = []
        for (index, item) in items.enumerated() {
            let path = "consumers[\(index)]"
            guard let map = reader.mapping(item, path: path, keys: Self.consumerKeys) else { continue }
            var valid = true
            var queue: String?
            var queueNode: Node?
            if let node = map.required("queue", reader), let text = reader.string(node, path: map.child("queue")) {
                queueNode = node
                if declared.contains(text) {
                    queue = text
                } else {
                    reader.report("\(map.child("queue")): unknown queue '\(text)' (declare it under queues:)", at: node)
                    valid = false
                }
            }
            var endpoint: String?
            if let node = map.required("endpoint", reader), let text = reader.string(node, path: map.child("endpoint")) {
                if let problem = EndpointURL.problem(text) {
                    reader.report("\(map.child("endpoint")): '\(EndpointURL.withoutCredentials(text))': \(problem)", at: node)
                    valid = false
                } else {
                    endpoint = text
                }
            }
            var name: String?
            if let node = map["name"] {
                if let text = reader.string(node, path: map.child("name")) {
                    if text.isEmpty || text.count > 80 || !text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }) {
                        reader.report("\(map.child("name")): a consumer name has 1 to 80 characters of A-Z a-z 0-9 _ - .", at: node)
                        valid = false
                    } else {
                        name = text
                        names.append((text, node))
                    }
                }
            } else if let queue, let queueNode {
                names.append((queue, queueNode))
            }
            let isFIFO = queue.flatMap { queueName in queues.first { $0.name == queueName }?.isFIFO } ?? false
            var batchSize: Int? = Consumer.defaultBatchSize
            if let node = map["batchSize"] {
                batchSize = reader.integer(node, path: map.child("batchSize"), range: Consumer.batchSizeRange)
                if let size = batchSize, isFIFO, !Consumer.fifoBatchSizeRange.contains(size) {
                    reader.report("\(map.child("batchSize")): \(size) is out of range for a FIFO queue (1…10, as Lambda's)", at: node)
                    batchSize = nil
                }
            }
            let window = map["maxBatchingWindow"].map {
                reader.duration($0, path: map.child("maxBatchingWindow"), range: Consumer.maxBatchingWindowRange)
            } ?? Duration.zero
            let concurrency = map["maxConcurrency"].map {
                reader.integer($0, path: map.child("maxConcurrency"), range: Consumer.maxConcurrencyRange)
            } ?? Consumer.defaultMaxConcurrency
            let report = map["reportBatchItemFailures"].map { reader.bool($0, path: map.child("reportBatchItemFailures")) } ?? false
            let timeout = map["timeout"].map { reader.duration($0, path: map.child("timeout"), range: Consumer.timeoutRange) } ?? Consumer.defaultTimeout
            if let timeout, let declared = queues.first(where: { $0.name == queue }), timeout > .seconds(declared.visibilityTimeoutSeconds) {
                // Lambda's rule too: a batch still being handled would come back and be posted again.
                reader.report(
                    "\(map.child("timeout")): \(ConfigValues.text(timeout)) is longer than the visibilityTimeout of queue '\(declared.name)' "
                        + "(\(declared.visibilityTimeoutSeconds)s): its messages would be received again while their POST runs; "
                        + "lower the consumer's timeout or raise the queue's visibilityTimeout",
                    at: map["timeout"] ?? queueNode)
                valid = false
            }
            guard valid, let queue, let endpoint, let batchSize, let window, let concurrency, let report, let timeout else { continue }
            result.append(Consumer(
                name: name, queue: queue, endpoint: endpoint, batchSize: batchSize, maxBatchingWindow: window,
                maxConcurrency: concurrency, reportBatchItemFailures: report, timeout: timeout))
        }
        var firstLine: [String: Int?] = [:]
        for item in names {
            if let line = firstLine[item.name] {
                let seen = line.map { " (first at line \($0))" } ?? ""
                reader.report("duplicate consumer name '\(item.name)'\(seen): a consumer is named after its queue unless it has a name: of its own", at: item.node)
            } else {
                firstLine[item.name] = item.node.mark?.line
            }
        }
        return result
    }

}
