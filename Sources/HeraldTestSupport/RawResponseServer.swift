// RawResponseServer: a TCP listener on 127.0.0.1 that answers every request with fixed bytes that
// need not be HTTP at all, then closes: for testing how a client takes a malformed response.
import Foundation
import HeraldNet
import Synchronization

/// Listens on 127.0.0.1 (ephemeral port). Each connection: reads one request (its head and its
/// Content-Length body, at most 2 s), writes `answer`, closes. Connections are served one at a time
/// on the server's own thread, which keeps the server alive: call `close()`, which stops it and
/// waits for that thread.
public final class RawResponseServer: @unchecked Sendable {
    public let port: Int
    /// Immutable after init; the server thread reads it.
    private let answer: [UInt8]
    private let listener: Int32
    private let stopped = Atomic<Bool>(false)
    private let served = Atomic<Int>(0)
    private let finished = DispatchSemaphore(value: 0)

    public init(answer: [UInt8]) throws {
        self.answer = answer
        (listener, port) = try LoopbackSocket.bind(listening: 16)
        Thread.detachNewThread { [self] in run() }
    }

    /// Requests answered so far.
    public var requestCount: Int { served.load(ordering: .acquiring) }

    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(10)) -> Bool {
        waitUntil(timeout) { requestCount >= count }
    }

    /// Stops accepting and closes the listener (idempotent).
    public func close() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        finished.wait()
        _ = Glibc.close(listener)
    }

    private func run() {
        defer { finished.signal() }
        while !stopped.load(ordering: .acquiring) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            serve(connection)
        }
    }

    private func serve(_ connection: Int32) {
        defer { _ = Glibc.close(connection) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = ContinuousClock.now + .seconds(2)
        while !Self.holdsWholeRequest(received) {
            guard ContinuousClock.now < deadline, !stopped.load(ordering: .relaxed) else { return }
            var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            received.append(contentsOf: buffer[0..<count])
        }
        served.wrappingAdd(1, ordering: .releasing)
        _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // Half-close, so the client reads the answer and then EOF rather than a reset.
        _ = shutdown(connection, Int32(SHUT_WR))
    }

    /// Whether `bytes` hold a request head and as much body as its Content-Length says.
    static func holdsWholeRequest(_ bytes: [UInt8]) -> Bool {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard bytes.count >= separator.count,
              let end = (0...(bytes.count - separator.count)).first(where: { bytes[$0..<($0 + separator.count)].elementsEqual(separator) })
        else { return false }
        let head = String(decoding: bytes[0..<end], as: UTF8.self).lowercased()
        let declared = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        return bytes.count >= end + separator.count + declared
    }
}
