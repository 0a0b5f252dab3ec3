// RefusingPort: a loopback port where connecting is refused for as long as a test holds it.
import Foundation
import HeraldNet
import Synchronization

/// A TCP socket bound to 127.0.0.1 on an ephemeral port and never listening: a connect to `port`
/// is refused (ECONNREFUSED), and no other socket can bind the port while this one holds it (no
/// SO_REUSEADDR), so a listener of a parallel test cannot take it over however long the test
/// stalls (a port merely bound and released a moment ago can be). Held until `close()` or release:
/// call `close()` (or `defer { port.close() }`) after the last connect, which keeps it alive that long.
public final class RefusingPort: @unchecked Sendable {
    public let port: Int
    private let fd: Int32
    /// Closing twice could close a descriptor number the process reused meanwhile.
    private let closed = Atomic<Bool>(false)

    public init() throws {
        (fd, port) = try LoopbackSocket.bind(listening: nil)
    }

    deinit { close() }

    /// Releases the port (idempotent).
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = Glibc.close(fd)
    }
}
