// A blocking plain TCP socket to loopback, for peers that misbehave below the TLS layer.
import Foundation
import HeraldNet
import Synchronization

/// A blocking plain TCP socket to 127.0.0.1, for bytes that are not a TLS handshake (or none at
/// all). Closed by `close()` or when released.
public final class PlainSocket: @unchecked Sendable {
    public let fd: Int32
    /// Closing twice could close a descriptor number the process reused meanwhile.
    private let closed = Atomic<Bool>(false)

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NetError(.socket, "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let reason = errno
            closed.store(true, ordering: .relaxed)
            _ = Glibc.close(fd)
            throw NetError(.socket, "connect() failed: errno \(reason)")
        }
    }

    deinit { close() }

    /// True when every byte was sent.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until EOF or reset (true) or until `timeout` passes with the socket still open (false).
    public func waitForServerClose(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            let ms = Int32(max(1, min(1000, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            let ready = poll(&poller, 1, ms)
            if ready <= 0 { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno != EAGAIN && errno != EINTR }
        }
        return false
    }

    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = Glibc.close(fd)
    }
}
