import Dispatch
import HeraldClient
import Synchronization

/// The third side of `herald bench api`: the same operations on the same Herald child over its
/// stream protocol (TLS), for the issue's "SQS API path ≥ 0.5× the same queue operations over
/// the stream protocol": SendMessageBatch and ReceiveMessage + DeleteMessageBatch as QREQ frames
/// with the same JSON the HTTP side sends, and SNS Publish's counterpart, a confirmed PUB.
/// `connections` request chains are spread over up to 4 client connections (the stream protocol
/// pipelines; HTTP/1.1 needs a connection per request in flight).
final class BenchAPIStream: Sendable {
    private let clients: [HeraldClient]
    private let connections: Int
    private let body: String
    private let queueURL: String
    static let topic = "bench-api"

    init(port: Int, caFile: String, connections: Int, size: Int) throws {
        var clients: [HeraldClient] = []
        for index in 0..<min(connections, 4) {
            do {
                clients.append(try HeraldClient.connect(ClientOptions(host: "127.0.0.1", port: port, caFile: caFile, clientName: "bench-api-\(index)")))
            } catch {
                throw BenchError("stream protocol on port \(port): \(error)")
            }
        }
        guard let first = clients.first else { throw BenchError("no stream connection") }
        // Its own queue: each side drains what its own send run left.
        switch first.queueRequest(action: "CreateQueue", json: Array(#"{"QueueName":"bench-api-stream"}"#.utf8)) {
        case .success(let reply):
            guard case .string(let url)? = reply["QueueUrl"] else { throw BenchError("CreateQueue over QREQ answered \(reply)") }
            queueURL = url
        case .failure(let error):
            throw BenchError("CreateQueue over QREQ: \(error)")
        }
        self.clients = clients
        self.connections = connections
        self.body = String(repeating: "x", count: size)
    }

    func close() {
        for client in clients { client.close() }
    }

    func run(_ scenario: BenchAPILoad.Scenario, seconds: Int) -> (rate: Double, requests: Int) {
        let counted = Atomic<Int>(0), requests = Atomic<Int>(0), failures = Atomic<Int>(0)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds) * 1_000_000_000
        let group = DispatchGroup()
        let batch = (0..<10).map { #"{"Id":"m\#($0)","MessageBody":"\#(body)"}"# }.joined(separator: ",")
        let send = Array(#"{"QueueUrl":"\#(queueURL)","Entries":[\#(batch)]}"#.utf8)
        let receive = Array(#"{"QueueUrl":"\#(queueURL)","MaxNumberOfMessages":10}"#.utf8)
        let message = Array(body.utf8)
        let queueURL = self.queueURL
        let started = DispatchTime.now().uptimeNanoseconds
        @Sendable func next(_ client: HeraldClient) {
            guard DispatchTime.now().uptimeNanoseconds < deadline else { return group.leave() }
            requests.add(1, ordering: .relaxed)
            switch scenario {
            case .snsPublish:
                client.publish(topic: Self.topic, body: message) { result in
                    if case .success = result { counted.add(1, ordering: .relaxed) } else { failures.add(1, ordering: .relaxed) }
                    next(client)
                }
            case .sqsSend:
                client.queueRequest(action: "SendMessageBatch", json: send) { result in
                    if case .success = result { counted.add(10, ordering: .relaxed) } else { failures.add(1, ordering: .relaxed) }
                    next(client)
                }
            case .sqsReceive:
                client.queueRequest(action: "ReceiveMessage", json: receive) { result in
                    guard case .success(let reply) = result else {
                        failures.add(1, ordering: .relaxed)
                        return next(client)
                    }
                    let handles = BenchAPILoad.receiptHandles(reply)
                    guard !handles.isEmpty else { return next(client) }
                    let entries = handles.enumerated().map { #"{"Id":"d\#($0.offset)","ReceiptHandle":"\#($0.element)"}"# }.joined(separator: ",")
                    requests.add(1, ordering: .relaxed)
                    client.queueRequest(action: "DeleteMessageBatch", json: Array(#"{"QueueUrl":"\#(queueURL)","Entries":[\#(entries)]}"#.utf8)) { deleted in
                        if case .success = deleted { counted.add(handles.count, ordering: .relaxed) } else { failures.add(1, ordering: .relaxed) }
                        next(client)
                    }
                }
            }
        }
        for chain in 0..<connections {
            group.enter()
            next(clients[chain % clients.count])
        }
        group.wait()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if failures.load(ordering: .relaxed) > 0 { print("  (\(failures.load(ordering: .relaxed)) failed requests over the stream protocol)") }
        return (Double(counted.load(ordering: .relaxed)) / elapsed, requests.load(ordering: .relaxed))
    }
}
