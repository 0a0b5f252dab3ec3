// HTTPServerConnection: the ConnectionHandler of one accepted HTTP connection. Decodes requests,
// hands each to the server's handler with a responder, and writes the answers in request order.
//
// Contract: every method runs on the connection's queue (ConnectionHandler callbacks, and
// `answer`, which responders reach through `connection.execute`); hence `@unchecked Sendable`.
// Rules:
// - answers are numbered by request; an answer that arrives early waits for those before it;
// - at most `maxPipelined` requests are unanswered: then reading pauses and bytes already read wait
//   in the decoder until an answer is written;
// - a request that ends the connection (`Connection: close`, HTTP/1.0 without keep-alive) stops
//   decoding; its answer carries `Connection: close` and the connection closes once it is written;
// - a decode error is answered, in turn, with the error's status and `Connection: close`;
// - idle: a peer silent for the idle timeout is dropped, unless it waits for our answers;
// - slow: a request not whole within the request timeout of its first byte is answered 408.
import HeraldNet
import HeraldWire

final class HTTPServerConnection: ConnectionHandler, @unchecked Sendable {
    enum Answer {
        case response(HTTPResponse)
        /// Only the first `Int` bytes of the encoded response, then close.
        case truncated(HTTPResponse, Int)
    }

    /// What answering a request needs to know about it.
    struct Pending {
        var keepAlive: Bool
        var isHead: Bool
        var isHTTP10: Bool
        var answer: Answer?
    }

    private let handler: HTTPServer.ResponderHandler
    private let maxPipelined: Int
    private var decoder: HTTPRequestDecoder
    /// Number of the next request decoded / the next answer to write.
    private var nextSequence: UInt64 = 0
    private var nextToWrite: UInt64 = 0
    private var pending: [UInt64: Pending] = [:]
    /// Set after a request that ends the connection, or a decode error: nothing more is decoded.
    private var stopDecoding = false
    private var pausedForPipelining = false
    private var finished = false
    private let requestTimeout: Duration
    /// When the request being decoded began to arrive (nil while the decoder is between requests).
    private var requestStartedAt: ContinuousClock.Instant?

    init(limits: HTTPLimits, maxPipelined: Int, requestTimeout: Duration = .seconds(30), handler: @escaping HTTPServer.ResponderHandler) {
        self.handler = handler
        self.maxPipelined = maxPipelined
        self.requestTimeout = requestTimeout
        self.decoder = HTTPRequestDecoder(limits: limits)
    }

    private var unanswered: Int { Int(nextSequence - nextToWrite) }

    func connection(_ connection: Connection, didRead bytes: UnsafeRawBufferPointer) {
        guard !stopDecoding else { return }
        let now = ContinuousClock.now
        if let started = requestStartedAt, now - started > requestTimeout {
            return refuse(HTTPResponse(status: 408, headers: ["Content-Type": "text/plain; charset=utf-8"],
                                       body: Array("request not received within \(requestTimeout)\n".utf8)), on: connection)
        }
        if decoder.isIdle { requestStartedAt = now }
        decoder.append(bytes)
        decodeAvailable(connection)
        // A request still partly read keeps its start; a finished one clears it.
        if decoder.isIdle { requestStartedAt = nil }
    }

    func connectionDidBecomeIdle(_ connection: Connection, idleFor: Duration) {
        // Waiting for our own handler is not the peer's idleness.
        if unanswered > 0 && decoder.isIdle { return }
        connection.close(.idleTimeout)
    }

    func connectionDidClose(_ connection: Connection, reason: CloseReason) {
        finished = true
        pending.removeAll()
    }

    /// Decodes and dispatches requests until the decoder needs bytes or the pipelining bound is hit.
    private func decodeAvailable(_ connection: Connection) {
        while !stopDecoding && !finished && unanswered < maxPipelined {
            let request: HTTPRequest
            do {
                guard let next = try decoder.next() else { break }
                request = next
            } catch {
                var response = HTTPResponse(status: error.status, headers: ["Content-Type": "text/plain; charset=utf-8"])
                response.body = Array("\(error.message)\n".utf8)
                return refuse(response, on: connection)
            }
            let keepAlive = request.keepAlive
            if !keepAlive {
                stopDecoding = true
                connection.pauseReading()
            }
            let sequence = take(Pending(
                keepAlive: keepAlive, isHead: request.method == "HEAD",
                isHTTP10: request.version == .http10))
            handler(request, HTTPServerResponder(connection: connection, owner: self, sequence: sequence))
            // Bytes of the next request already here: its clock starts now, not at the first's.
            if !decoder.isIdle { requestStartedAt = ContinuousClock.now }
        }
        if !stopDecoding && !pausedForPipelining && unanswered >= maxPipelined {
            pausedForPipelining = true
            connection.pauseReading()
        }
    }

    /// Answers `response` in turn, after the answers already owed, and closes: nothing more is read.
    private func refuse(_ response: HTTPResponse, on connection: Connection) {
        stopDecoding = true
        connection.pauseReading()
        let sequence = take(Pending(keepAlive: false, isHead: false, isHTTP10: false))
        answer(sequence, with: .response(response), on: connection)
    }

    private func take(_ entry: Pending) -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        pending[sequence] = entry
        return sequence
    }

    /// Records an answer and writes every answer that is now next in line.
    func answer(_ sequence: UInt64, with answer: Answer, on connection: Connection) {
        guard !finished, pending[sequence] != nil, pending[sequence]?.answer == nil else { return }
        pending[sequence]?.answer = answer
        while let entry = pending[nextToWrite], let ready = entry.answer {
            pending[nextToWrite] = nil
            nextToWrite += 1
            if !write(ready, for: entry, on: connection) {
                finished = true
                return
            }
        }
        connection.flush()
        if pausedForPipelining && unanswered < maxPipelined && !stopDecoding {
            pausedForPipelining = false
            connection.resumeReading()
            decodeAvailable(connection)
        }
    }

    /// Writes one answer; false when the connection is now closing.
    private func write(_ answer: Answer, for entry: Pending, on connection: Connection) -> Bool {
        switch answer {
        case .response(var response):
            let last = !entry.keepAlive || response.headers.hasToken("close", in: "Connection")
            if last {
                response.headers.set("Connection", "close")
            } else if entry.isHTTP10 {
                response.headers.set("Connection", "keep-alive")
            }
            connection.write(Self.encode(response, omittingBody: entry.isHead))
            if last {
                connection.closeWhenFlushed()
                return false
            }
            return true
        case .truncated(let response, let byteCount):
            let bytes = Self.encode(response, omittingBody: entry.isHead)
            connection.close(after: Array(bytes.prefix(max(0, byteCount))), discardingQueuedOutput: false,
                             reason: .closedByOwner)
            return false
        }
    }

    /// A response the handler built that cannot be encoded (header injection) becomes a 500.
    static func encode(_ response: HTTPResponse, omittingBody: Bool) -> [UInt8] {
        do {
            return try response.encode(omittingBody: omittingBody)
        } catch {
            let fallback = HTTPResponse(status: 500, headers: ["Connection": response.headers["Connection"] ?? "keep-alive"])
            return (try? fallback.encode()) ?? Array("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".utf8)
        }
    }
}
