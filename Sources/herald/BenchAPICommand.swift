import ArgumentParser
import Dispatch
import Foundation
import HeraldHTTP
import HeraldNet
import HeraldWire
import Synchronization

/// `herald bench api` (issue 10, "Performance"): the SQS and SNS HTTP APIs side by side with moto's
/// server (`python3 -m moto.server`, on PyPI), the same calls from the same client in one run:
///  - `sqs-send`: SendMessageBatch of 10 × `--size` bytes, messages/s;
///  - `sqs-receive`: ReceiveMessage (10) + DeleteMessageBatch of what came, messages/s (drains
///    what `sqs-send` left; each side's queue was filled by its own send run);
///  - `sns-publish`: Publish to a topic with no subscriptions, requests/s.
/// The client is HeraldHTTP's pooled keep-alive client in this process, `--connections` requests
/// in flight; its own CPU per request is printed so a reader can see it is not the bottleneck.
/// A third column runs the same operations over Herald's stream protocol (`BenchAPIStream`) for
/// the API-vs-stream ratio.
struct BenchAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api", abstract: "SQS/SNS HTTP API benchmark: Herald next to moto_server and to its own stream protocol, same calls, one run.")

    @Option(help: "Requests in flight.")
    var connections: Int = 16

    @Option(help: "Seconds per run.")
    var duration: Int = 5

    @Option(help: "Runs per side and scenario (Herald and moto alternate).")
    var `repeat`: Int = 3

    @Option(help: "Message size in bytes.")
    var size: Int = 128

    @Option(help: "The Herald child's durability.fsync: always, interval or never.")
    var fsync: String = "always"

    @Option(help: "Folder with the development certificates (default: found like `herald serve` does).")
    var certs: String?

    func validate() throws {
        guard connections >= 1, connections <= 1_000, duration >= 1, `repeat` >= 1, size >= 1, size <= 65_536 else {
            throw ValidationError("--connections 1…1000, --duration and --repeat ≥ 1, --size 1…65536")
        }
        guard ["always", "interval", "never"].contains(fsync) else { throw ValidationError("--fsync must be always, interval or never") }
    }

    func run() throws {
        let certificates = try BenchHTTPCertificates.locate(certs)
        let directory = NSTemporaryDirectory() + "herald-bench-api-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let heraldPort = SocketAddress.freeLoopbackPort(), let motoPort = SocketAddress.freeLoopbackPort() else { throw BenchError("no free loopback port") }
        let herald = try BenchServeChild(config: """
            listeners:
              - listen: 127.0.0.1:0
                tls: {cert: \(certificates.serverCertificate), key: \(certificates.serverKey)}
            auth: {anonymous: true}
            autoCreateTopics: true
            durability: {fsync: \(fsync)}
            http: {listen: 127.0.0.1:\(heraldPort)}
            """, directory: directory, dataDirectory: directory + "/data")
        defer { herald.stop() }
        let moto = try BenchAPIMoto(port: motoPort)
        defer { moto.stop() }
        let client = try HTTPClient()
        defer { client.shutDown() }
        let load = BenchAPILoad(client: client, connections: connections, size: size)
        let sides = [("Herald", heraldPort), ("moto", motoPort)]
        for (_, port) in sides { try load.prepare(port: port) }
        let stream = try BenchAPIStream(port: herald.port, caFile: certificates.ca, connections: connections, size: size)
        defer { stream.close() }
        print("herald-bench api: \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(BenchAPILoad.loadAverage()), \(connections) in flight, \(size)-byte messages, \(duration) s per run, \(`repeat`) runs per side, Herald fsync \(fsync), moto \(moto.version)")
        var rows: [(name: String, herald: [Double], moto: [Double], stream: [Double], cpu: Double)] = []
        for scenario in BenchAPILoad.Scenario.allCases {
            var rates: [String: [Double]] = [:]
            var cpu: [Double] = []
            for run in 1...`repeat` {
                for (name, port) in sides {
                    let before = BenchAPILoad.processCPUSeconds()
                    let (rate, requests) = try load.run(scenario, port: port, seconds: duration)
                    if name == "Herald", requests > 0 { cpu.append((BenchAPILoad.processCPUSeconds() - before) / Double(requests) * 1e6) }
                    rates[name, default: []].append(rate)
                    print("  \(scenario.rawValue) run \(run): \(name) \(Int(rate)) \(scenario.unit)/s")
                }
                let (rate, _) = stream.run(scenario, seconds: duration)
                rates["stream", default: []].append(rate)
                print("  \(scenario.rawValue) run \(run): Herald stream protocol \(Int(rate)) \(scenario.unit)/s")
            }
            rows.append((scenario.rawValue, rates["Herald"] ?? [], rates["moto"] ?? [], rates["stream"] ?? [], cpu.sorted()[cpu.count / 2]))
        }
        func ratio(_ a: [Double], _ b: [Double]) -> String { String(format: "%.2f", BenchAPILoad.median(a) / max(BenchAPILoad.median(b), 0.001)) }
        print("")
        print("| scenario | Herald HTTP API | moto | Herald stream protocol | API / moto | API / stream |")
        print("| --- | --- | --- | --- | --- | --- |")
        for row in rows {
            print("| \(row.name) | \(BenchAPILoad.summary(row.herald)) | \(BenchAPILoad.summary(row.moto)) | \(BenchAPILoad.summary(row.stream)) | **\(ratio(row.herald, row.moto))×** | **\(ratio(row.herald, row.stream))×** |")
        }
        print("# sns-publish's stream counterpart is a confirmed PUB; sqs-* send the same JSON as QREQ frames, chains spread over up to 4 TLS connections.")
        for row in rows {
            print("# \(row.name): the bench client used \(Int(row.cpu)) µs of CPU per request against Herald's HTTP API (of \(ProcessInfo.processInfo.activeProcessorCount) cores × 1 s per second)")
        }
    }
}

/// moto's server as a child process.
final class BenchAPIMoto {
    let process = Process()
    let version: String

    init(port: Int) throws {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import moto; print(moto.__version__)"]
        let pipe = Pipe()
        check.standardOutput = pipe
        check.standardError = FileHandle.nullDevice
        try check.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        check.waitUntilExit()
        guard check.terminationStatus == 0 else {
            throw BenchError("moto is not installed: pip install 'moto[server]' (the peer of this benchmark)")
        }
        version = text
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        BenchChildren.add(process.processIdentifier)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if BenchAPILoad.accepts(port: port) { return }
            usleep(100_000)
        }
        stop()
        throw BenchError("moto_server did not listen on \(port) within 30 s")
    }

    func stop() {
        defer { BenchChildren.remove(process.processIdentifier) }
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// The client side: botocore-shaped requests, `connections` of them in flight.
final class BenchAPILoad: Sendable {
    enum Scenario: String, CaseIterable {
        case sqsSend = "sqs-send", sqsReceive = "sqs-receive", snsPublish = "sns-publish"
        var unit: String { self == .snsPublish ? "requests" : "messages" }
    }

    let client: HTTPClient
    let connections: Int
    let body: String
    /// Per port, the queue URL and topic ARN the server answered (moto's account differs).
    private let names = Mutex<[Int: (queueURL: String, topicArn: String)]>([:])
    static let authorization = "AWS4-HMAC-SHA256 Credential=AKIABENCH/20261206/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"

    init(client: HTTPClient, connections: Int, size: Int) {
        self.client = client
        self.connections = connections
        self.body = String(repeating: "x", count: size)
    }

    func prepare(port: Int) throws {
        let queue = String(decoding: try call(port: port, sqs("CreateQueue", #"{"QueueName":"bench-api"}"#)).body, as: UTF8.self)
        let topic = String(decoding: try call(port: port, sns("Action=CreateTopic&Name=bench-api")).body, as: UTF8.self)
        guard let url = Self.between(queue, #""QueueUrl":""#, "\"") ?? Self.between(queue, #""QueueUrl": ""#, "\""),
              let arn = Self.between(topic, "<TopicArn>", "</TopicArn>")
        else { throw BenchError("port \(port) did not answer CreateQueue/CreateTopic as expected: \(queue) \(topic)") }
        names.withLock { $0[port] = (url, arn) }
    }

    static func between(_ text: String, _ start: String, _ end: String) -> String? {
        guard let from = text.range(of: start), let to = text[from.upperBound...].range(of: end) else { return nil }
        return String(text[from.upperBound..<to.lowerBound])
    }

    func sqs(_ action: String, _ json: String) -> HTTPRequest {
        HTTPRequest(method: "POST", target: "/", headers: [
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.\(action)", "x-amzn-query-mode": "true",
            "X-Amz-Date": "20261206T000000Z", "Authorization": Self.authorization,
        ], body: Array(json.utf8))
    }

    func sns(_ form: String) -> HTTPRequest {
        HTTPRequest(method: "POST", target: "/", headers: [
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "X-Amz-Date": "20261206T000000Z",
            "Authorization": Self.authorization.replacingOccurrences(of: "/sqs/", with: "/sns/"),
        ], body: Array(form.utf8))
    }

    func call(port: Int, _ request: HTTPRequest) throws -> HTTPResponse {
        let box = Mutex<Result<HTTPResponse, HTTPClientError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        client.send(request, to: try HTTPURL("http://127.0.0.1:\(port)/"), timeout: .seconds(30)) { result in
            box.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        guard let result = box.withLock({ $0 }) else { throw BenchError("no answer") }
        switch result {
        case .success(let response):
            guard (200..<300).contains(response.status) else {
                throw BenchError("HTTP \(response.status) from port \(port): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
            }
            return response
        case .failure(let error): throw BenchError("port \(port): \(error)")
        }
    }

    /// Runs `scenario` for `seconds` with `connections` request chains; its rate and request count.
    func run(_ scenario: Scenario, port: Int, seconds: Int) throws -> (rate: Double, requests: Int) {
        let url = try HTTPURL("http://127.0.0.1:\(port)/")
        let counted = Atomic<Int>(0), requests = Atomic<Int>(0), failures = Atomic<Int>(0)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds) * 1_000_000_000
        let group = DispatchGroup()
        guard let (queueURL, topicArn) = names.withLock({ $0[port] }) else { throw BenchError("port \(port) was not prepared") }
        let encodedArn = topicArn.replacingOccurrences(of: ":", with: "%3A")
        let batch = (0..<10).map { #"{"Id":"m\#($0)","MessageBody":"\#(body)"}"# }.joined(separator: ",")
        let send = sqs("SendMessageBatch", #"{"QueueUrl":"\#(queueURL)","Entries":[\#(batch)]}"#)
        let receive = sqs("ReceiveMessage", #"{"QueueUrl":"\#(queueURL)","MaxNumberOfMessages":10}"#)
        let publish = sns("Action=Publish&TopicArn=\(encodedArn)&Message=\(body)")
        let started = DispatchTime.now().uptimeNanoseconds
        @Sendable func next() {
            guard DispatchTime.now().uptimeNanoseconds < deadline else { return group.leave() }
            let request: HTTPRequest
            switch scenario {
            case .sqsSend: request = send
            case .sqsReceive: request = receive
            case .snsPublish: request = publish
            }
            requests.add(1, ordering: .relaxed)
            client.send(request, to: url, timeout: .seconds(30)) { [self] result in
                guard case .success(let response) = result, (200..<300).contains(response.status) else {
                    failures.add(1, ordering: .relaxed)
                    return next()
                }
                switch scenario {
                case .sqsSend: counted.add(10, ordering: .relaxed); next()
                case .snsPublish: counted.add(1, ordering: .relaxed); next()
                case .sqsReceive:
                    let handles = Self.receiptHandles(response.body)
                    guard !handles.isEmpty else { return next() }
                    let entries = handles.enumerated().map { #"{"Id":"d\#($0.offset)","ReceiptHandle":"\#($0.element)"}"# }.joined(separator: ",")
                    requests.add(1, ordering: .relaxed)
                    client.send(sqs("DeleteMessageBatch", #"{"QueueUrl":"\#(queueURL)","Entries":[\#(entries)]}"#), to: url, timeout: .seconds(30)) { deleted in
                        if case .success(let answer) = deleted, (200..<300).contains(answer.status) { counted.add(handles.count, ordering: .relaxed) }
                        next()
                    }
                }
            }
        }
        for _ in 0..<connections {
            group.enter()
            next()
        }
        group.wait()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if failures.load(ordering: .relaxed) > 0 { print("  (\(failures.load(ordering: .relaxed)) failed requests against port \(port))") }
        return (Double(counted.load(ordering: .relaxed)) / elapsed, requests.load(ordering: .relaxed))
    }

    /// The `ReceiptHandle`s of a ReceiveMessage answer (JSON).
    static func receiptHandles(_ body: [UInt8]) -> [String] {
        let text = String(decoding: body, as: UTF8.self)
        var handles: [String] = []
        var rest = text[...]
        while let range = rest.range(of: #""ReceiptHandle":""#) ?? rest.range(of: #""ReceiptHandle": ""#) {
            let after = rest[range.upperBound...]
            guard let end = after.firstIndex(of: "\"") else { break }
            handles.append(String(after[..<end]))
            rest = after[end...]
        }
        return handles
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }

    static func median(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.sorted()[values.count / 2] }

    static func summary(_ values: [Double]) -> String {
        guard let low = values.min(), let high = values.max() else { return "—" }
        let middle = median(values)
        func k(_ value: Double) -> String { value >= 1000 ? String(format: "%.1f k", value / 1000) : String(format: "%.0f", value) }
        return "\(k(middle))/s (\(k(low))–\(k(high)), spread \(Int(((high - low) / max(middle, 0.001) * 100).rounded())) %)"
    }
}
