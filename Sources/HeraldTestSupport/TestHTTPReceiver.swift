// TestHTTPReceiver: a real HTTP(S) endpoint for tests, built on HeraldHTTP's server. It records
// every request and answers from a script (status, headers, body, a delay, or breaking off
// mid-response); once the script runs out it answers with `fallback` (which a test may change,
// e.g. an endpoint that comes back healthy).
import Dispatch
import HeraldHTTP
import HeraldNet
import HeraldWire
import Synchronization

public final class TestHTTPReceiver: Sendable {
    /// One scripted answer.
    public struct Step: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: [UInt8]
        /// Wait this long before answering.
        public var delay: Duration
        /// Send only this many bytes of the encoded response, then close (a server dying mid-response).
        public var closeAfterBytes: Int?

        public init(status: Int = 200, headers: HTTPHeaders = [:], body: [UInt8] = [], delay: Duration = .zero,
                    closeAfterBytes: Int? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
            self.closeAfterBytes = closeAfterBytes
        }

        public init(status: Int = 200, body: String, delay: Duration = .zero) {
            self.init(status: status, headers: ["Content-Type": "text/plain"], body: Array(body.utf8), delay: delay)
        }
    }

    private struct State {
        var requests: [HTTPRequest] = []
        /// When each request arrived (monotonic), index for index with `requests`.
        var arrivals: [ContinuousClock.Instant] = []
        var script: [Step] = []
        var fallback: Step
    }

    /// Shared by the server's handler and the test's reads.
    private final class Recorder: Sendable {
        let state: Mutex<State>
        init(script: [Step], fallback: Step) { state = Mutex(State(script: script, fallback: fallback)) }
    }

    public let server: HTTPServer
    public let isTLS: Bool
    private let recorder: Recorder

    /// Listens on 127.0.0.1 (ephemeral port); `tls` serves the dev server certificate (names
    /// localhost, 127.0.0.1, ::1; signed by certs/dev-ca.pem).
    public init(tls: Bool = false, script: [Step] = [], fallback: Step = Step(),
                configure: (inout HTTPServer.Configuration) -> Void = { _ in }) throws {
        let recorder = Recorder(script: script, fallback: fallback)
        var configuration = HTTPServer.Configuration(tls: tls ? try TestTLS.server() : nil)
        configure(&configuration)
        server = try HTTPServer(configuration: configuration) { request, responder in
            let step: Step = recorder.state.withLock { state in
                state.requests.append(request)
                state.arrivals.append(ContinuousClock.now)
                return state.script.isEmpty ? state.fallback : state.script.removeFirst()
            }
            let response = HTTPResponse(status: step.status, headers: step.headers, body: step.body)
            let answer: @Sendable () -> Void = {
                if let cut = step.closeAfterBytes {
                    responder.abort(after: cut, of: response)
                } else {
                    responder.respond(response)
                }
            }
            if step.delay > .zero {
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(step.delay.components.seconds * 1_000_000_000
                    + step.delay.components.attoseconds / 1_000_000_000)), execute: answer)
            } else {
                answer()
            }
        }
        self.recorder = recorder
        self.isTLS = tls
    }

    public var port: Int { server.port }

    /// `http(s)://127.0.0.1:<port><path>`.
    public func url(_ path: String = "/") -> String {
        "\(isTLS ? "https" : "http")://127.0.0.1:\(port)\(path)"
    }

    /// Appends answers to the script.
    public func enqueue(_ steps: Step...) { recorder.state.withLock { $0.script.append(contentsOf: steps) } }

    /// The answer once the script has run out, from the next request on.
    public func setFallback(_ step: Step) { recorder.state.withLock { $0.fallback = step } }

    public var requests: [HTTPRequest] { recorder.state.withLock { $0.requests } }
    /// When each request arrived, in order.
    public var arrivals: [ContinuousClock.Instant] { recorder.state.withLock { $0.arrivals } }
    public var requestCount: Int { recorder.state.withLock { $0.requests.count } }
    public var acceptedConnections: Int { server.acceptedConnections }
    public var activeConnections: Int { server.activeConnections }

    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(10)) -> Bool {
        waitUntil(timeout) { requestCount >= count }
    }

    public func close() { server.close() }
}
