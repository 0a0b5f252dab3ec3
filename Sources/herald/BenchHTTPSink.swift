// BenchHTTPSink: the keep-alive HTTP(S) endpoint `herald bench http` measures against — wrk and
// Herald both POST to the same instance. It answers 200 with an empty body to every request and
// counts requests and the messages they carry (a managed consumer's batch holds several), with
// the monotonic time of the first and the last one.
//
// Contract: HeraldHTTP's server calls the handler on its connections' serial queues (several at
// once); the counters are one Mutex, taken once per request. `reset()` and `snapshot` may be called
// from any thread; the bench resets before each run and reads the snapshot while it waits.
import ArgumentParser
import Dispatch
import Foundation
import HeraldHTTP
import HeraldNet
import HeraldWire
import Synchronization

final class BenchHTTPSink: Sendable {
    /// What the sink has seen since the last reset.
    struct Counts: Sendable {
        var requests = 0
        var messages = 0
        /// Uptime nanoseconds of the first and the latest request.
        var first: UInt64 = 0
        var last: UInt64 = 0

        /// Messages per second from the first to the last request (0 with fewer than two requests).
        var rate: Double {
            guard requests > 1, last > first else { return 0 }
            return Double(messages) / (Double(last - first) / 1e9)
        }
    }

    let server: HTTPServer
    let isTLS: Bool
    private let tally = Tally()

    /// The counters, in a class of their own so the server's handler can hold them.
    private final class Tally: Sendable {
        let counts = Mutex(Counts())
    }

    /// Listens on 127.0.0.1:`port` (0: ephemeral); `tls` serves HTTPS.
    init(port: Int = 0, tls: TLSContext?) throws {
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: port, tls: tls)
        // wrk and Herald's pool keep their connections busy; one answer at a time per connection
        // is what both do, so the default pipelining bound is never the limit.
        configuration.idleTimeout = .seconds(300)
        let tally = self.tally
        do {
            server = try HTTPServer(configuration: configuration) { request, respond in
                let messages = BenchHTTPSink.messageCount(request.body)
                let now = DispatchTime.now().uptimeNanoseconds
                tally.counts.withLock { counts in
                    if counts.requests == 0 { counts.first = now }
                    counts.requests += 1
                    counts.messages += messages
                    counts.last = now
                }
                respond(HTTPResponse(status: 200))
            }
        } catch {
            throw BenchError("cannot start the HTTP sink on 127.0.0.1:\(port): \(error)")
        }
        isTLS = tls != nil
    }

    var port: Int { server.port }
    var scheme: String { isTLS ? "https" : "http" }

    var snapshot: Counts { tally.counts.withLock { $0 } }

    func reset() { tally.counts.withLock { $0 = Counts() } }

    func close() { server.close() }

    /// Waits until `messages` have arrived; gives up when nothing arrives for `stall`.
    func waitForMessages(_ messages: Int, stall: Duration = .seconds(30)) throws -> Counts {
        var seen = snapshot.messages
        var lastProgress = ContinuousClock.now
        while true {
            let now = snapshot
            if now.messages >= messages { return now }
            if now.messages != seen {
                seen = now.messages
                lastProgress = .now
            } else if ContinuousClock.now - lastProgress > stall {
                throw BenchError("the sink got \(now.messages) of \(messages) messages (\(now.requests) requests), then nothing for \(stall)")
            }
            usleep(2_000)
        }
    }

    /// A managed consumer's batch (Lambda's SQS event) holds one `"messageId"` per record; any
    /// other body (wrk's, a raw delivery of the bench's `x…x` payload) is one message.
    static func messageCount(_ body: [UInt8]) -> Int {
        let needle = Array(#""messageId""#.utf8)
        guard body.count >= needle.count else { return 1 }
        var found = 0
        var index = 0
        let end = body.count - needle.count
        while index <= end {
            if body[index] == needle[0], body[index..<(index + needle.count)].elementsEqual(needle) {
                found += 1
                index += needle.count
            } else {
                index += 1
            }
        }
        return max(found, 1)
    }
}

/// `herald bench http-sink`: the bench's sink on its own, for pointing wrk or a server at by hand.
/// Prints the counts every second while they change; stops on SIGINT/SIGTERM.
struct BenchHTTPSinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-sink",
        abstract: "The HTTP sink of `herald bench http`, on its own (answers 200 to everything, counts requests).",
        shouldDisplay: false)

    @Option(help: "Port on 127.0.0.1 (0: any free port, printed).")
    var port: Int = 0

    @Flag(help: "Serve HTTPS with the development server certificate.")
    var tls = false

    @Option(help: "Folder with the development certificates (default: found like `herald serve` does).")
    var certs: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
    }

    func run() throws {
        let context = tls ? try BenchHTTPCertificates.locate(certs).serverContext() : nil
        let sink = try BenchHTTPSink(port: port, tls: context)
        Terminal.out("herald bench http-sink listening on \(sink.scheme)://127.0.0.1:\(sink.port)/")
        var printed = 0
        while true {
            sleep(1)
            let counts = sink.snapshot
            guard counts.requests != printed else { continue }
            printed = counts.requests
            Terminal.out(String(format: "%d requests, %d messages, %.0f messages/s", counts.requests, counts.messages, counts.rate))
        }
    }
}
