import Dispatch
import Synchronization
import Testing
import HeraldCore
import HeraldNet
import HeraldTestSupport
@testable import HeraldClient
import HeraldWire

/// `HeraldClient`'s queue calls against a scripted server (TLS, the real codec): replies matched by
/// request id in any order, `ERR <rid>` as the call's error, PUB and QREQ on one id counter, and the
/// INFO limit enforced before sending.
@Suite(.serialized) struct ClientQueueTests {
    /// Answers CONNECT; for QREQ: `Hold` waits for the next `Release` (answered after it, so out of
    /// order), `Fail` is `ERR QueueDoesNotExist <rid> …`, `ListQueues` lists two URLs, anything else
    /// echoes `{"Action":…,"Id":<rid>,"Request":<json text>}`. PUB gets PUBOK.
    final class ScriptedServer: ConnectionHandler, @unchecked Sendable {
        var decoder = ClientFrameDecoder()
        var out: [UInt8] = []
        var held: QueueRequestFrame?
        let requestIDs: Collector<UInt64>

        init(requestIDs: Collector<UInt64>) { self.requestIDs = requestIDs }

        func connectionDidOpen(_ connection: Connection) {
            var limits = WireLimits()
            limits.maxQueueRequest = 200
            FrameEncoder.append(ServerFrame.info(ServerInfo(serverName: "fake", version: "0", limits: limits)), to: &out)
            flush(connection)
        }

        func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
            decoder.append(bytes)
            while let frame = try? decoder.next() {
                switch frame {
                case .connect: FrameEncoder.append(ServerFrame.connected(ConnectAccepted(session: "s", resumed: false)), to: &out)
                case .publish(let p):
                    requestIDs.append(p.requestID)
                    FrameEncoder.append(ServerFrame.published(requestID: p.requestID, messageID: MessageID(text: "m-\(p.requestID)")), to: &out)
                case .queueRequest(let q):
                    requestIDs.append(q.requestID)
                    answer(q)
                default: break
                }
            }
            flush(connection)
        }

        func answer(_ q: QueueRequestFrame) {
            switch q.action {
            case "Hold":
                held = q
            case "Release":
                reply(q, #"{"Released":true}"#)
                if let held { reply(held, #"{"Held":true}"#) }
                held = nil
            case "Fail":
                FrameEncoder.append(ServerFrame.error(ErrorFrame(code: HeraldErrorCode(rawValue: "QueueDoesNotExist"), reference: .request(q.requestID), message: "The specified queue does not exist.")), to: &out)
            case "ListQueues":
                reply(q, #"{"QueueUrls":["http://127.0.0.1/000000000000/a","http://127.0.0.1/000000000000/b"]}"#)
            default:
                let echo = JSONValue.object([
                    .init(key: "Action", value: .string(q.action)), .init(key: "Id", value: .number(String(q.requestID))),
                    .init(key: "Request", value: .string(String(decoding: q.json, as: UTF8.self))),
                ])
                reply(q, echo.text)
            }
        }

        func reply(_ q: QueueRequestFrame, _ json: String) {
            FrameEncoder.append(ServerFrame.queueResponse(QueueResponseFrame(requestID: q.requestID, json: Array(json.utf8))), to: &out)
        }

        func flush(_ connection: Connection) {
            guard !out.isEmpty else { return }
            _ = connection.write(out)
            out.removeAll()
            connection.flush()
        }

        func connectionDidClose(_ connection: Connection, reason: CloseReason) {}
    }

    static func withClient(_ body: (HeraldClient, Collector<UInt64>) throws -> Void) throws {
        let requestIDs = Collector<UInt64>()
        let listener = try Listener(port: 0, tls: try TestTLS.server()) { _ in ScriptedServer(requestIDs: requestIDs) }
        defer { listener.close() }
        let client = try HeraldClient.connect(ClientOptions(host: "127.0.0.1", port: listener.port, caFile: TestPaths.ca))
        defer { client.close() }
        try body(client, requestIDs)
    }

    @Test func genericRequestSendsTheJSONAndReturnsTheAnswer() throws {
        try Self.withClient { client, _ in
            let json = try client.queueRequest(action: "GetQueueUrl", json: Array(#"{"QueueName":"q"}"#.utf8)).get()
            #expect(json["Action"] == .string("GetQueueUrl"))
            #expect(json["Request"] == .string(#"{"QueueName":"q"}"#))
            #expect(try client.listQueues().map(QueueReply.queueName(fromURL:)) == ["a", "b"])
        }
    }

    @Test func serverErrorForTheRequestIdIsTheCallsError() throws {
        try Self.withClient { client, _ in
            let result = client.queueRequest(action: "Fail", json: Array("{}".utf8))
            guard case .failure(let error) = result else {
                Issue.record("expected the ERR, got \(result)")
                return
            }
            #expect(error.code == "QueueDoesNotExist")
            #expect(error.message == "The specified queue does not exist.")
        }
    }

    @Test func repliesOutOfOrderReachTheirCallers() throws {
        try Self.withClient { client, requestIDs in
            let held = Mutex<Result<JSONValue, ClientError>?>(nil)
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                let result = client.queueRequest(action: "Hold", json: [])
                held.withLock { $0 = result }
                done.signal()
            }
            // Once the server holds the first request, a second one releases both: its answer first.
            #expect(requestIDs.waitForCount(1))
            #expect(held.withLock { $0 == nil })
            let released = try client.queueRequest(action: "Release", json: []).get()
            #expect(released["Released"] == .bool(true))
            #expect(done.wait(timeout: .now() + 10) == .success)
            #expect(try held.withLock { try $0?.get() }?["Held"] == .bool(true))
        }
    }

    @Test func publishAndQueueRequestsShareOneRequestIDCounter() throws {
        try Self.withClient { client, requestIDs in
            _ = try client.publish(topic: "t", body: [1])
            _ = try client.queueRequest(action: "Echo", json: []).get()
            _ = try client.publish(topic: "t", body: [2])
            #expect(requestIDs.all == [1, 2, 3])
        }
    }

    @Test func requestsOverTheAnnouncedLimitAreRefusedWithoutClosing() throws {
        try Self.withClient { client, _ in
            let big = QueueRequest.send(queue: "q", message: OutgoingMessage(body: String(repeating: "x", count: 300)))
            let error = #expect(throws: ClientError.self) { try client.perform(big) }
            #expect(error?.code == "RequestTooLarge")
            let badAction = client.queueRequest(action: "Not-Valid", json: [])
            #expect(throws: ClientError.self) { try badAction.get() }
            // The connection is still usable.
            let echo = try client.queueRequest(action: "Echo", json: []).get()
            #expect(echo["Action"] == .string("Echo"))
        }
    }
}
