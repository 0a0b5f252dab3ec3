// Listener: binds host:port (IPv4/IPv6 literal or name, port 0 = ephemeral), accepts non-blockingly
// from a read DispatchSource (looping until EAGAIN), enforces a max-connections bound (extra
// connections are accepted and closed at once), and hands each Connection to `onAccept` on the
// connection's own queue before its handshake starts.
import CHeraldOpenSSL
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class Listener: Sendable {
    /// Returns the handler for a new connection, or nil to reject it. Runs on the connection's queue.
    public typealias AcceptHandler = @Sendable (Connection) -> (any ConnectionHandler)?

    /// The bound address; `port` is the real port when 0 was requested.
    public let localAddress: SocketAddress
    public var port: Int { localAddress.port }

    private let acceptor: Acceptor

    /// Binds and starts accepting immediately. `tls` nil serves plain TCP.
    public init(
        host: String = "127.0.0.1",
        port: Int,
        tls: TLSContext?,
        group: EventLoopGroup = .shared,
        options: ConnectionOptions = ConnectionOptions(),
        maxConnections: Int = 10_000,
        backlog: Int32 = 1024,
        onAccept: @escaping AcceptHandler
    ) throws(NetError) {
        Net.ignoreSIGPIPE()
        if let tls, !tls.isServer {
            throw NetError(.tlsConfiguration, "a listener needs a server TLS context")
        }
        let address = try SocketAddress.resolve(host: host, port: port, passive: true)
        let fd = Socket.streamSocket(family: address.family)
        guard fd >= 0 else { throw NetError(.socket, "socket(): \(ErrorText.errno(errno))") }
        Socket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        guard rc == 0 else {
            let reason = ErrorText.errno(errno)
            _ = Glibc.close(fd)
            throw NetError(.socket, "cannot bind \(address): \(reason)")
        }
        guard listen(fd, backlog) == 0, Socket.makeNonBlocking(fd) else {
            let reason = ErrorText.errno(errno)
            _ = Glibc.close(fd)
            throw NetError(.socket, "cannot listen on \(address): \(reason)")
        }
        localAddress = SocketAddress.local(of: fd) ?? address
        acceptor = Acceptor(fd: fd, tls: tls, group: group, options: options,
                            maxConnections: maxConnections, onAccept: onAccept)
        acceptor.start()
    }

    deinit { acceptor.close() }

    /// Connections accepted and not yet torn down.
    public var activeConnections: Int { acceptor.active.load(ordering: .relaxed) }
    /// Connections closed at once because `maxConnections` was reached.
    public var rejectedConnections: Int { acceptor.rejected.load(ordering: .relaxed) }
    /// Total accepted connections handed to `onAccept`.
    public var acceptedConnections: Int { acceptor.accepted.load(ordering: .relaxed) }

    /// Stops accepting and closes the listening socket (existing connections stay). Idempotent,
    /// callable from any thread.
    public func close() { acceptor.close() }
}

/// The accept loop, confined to its own serial queue. Its source holds it until `close()`.
private final class Acceptor: @unchecked Sendable {
    let fd: Int32
    let tls: TLSContext?
    let group: EventLoopGroup
    let options: ConnectionOptions
    let maxConnections: Int
    let onAccept: Listener.AcceptHandler
    let queue = DispatchQueue(label: "herald.accept")
    let active = Atomic<Int>(0)
    let rejected = Atomic<Int>(0)
    let accepted = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    private var source: (any DispatchSourceRead)?
    private var suspended = false

    init(fd: Int32, tls: TLSContext?, group: EventLoopGroup, options: ConnectionOptions,
         maxConnections: Int, onAccept: @escaping Listener.AcceptHandler) {
        self.fd = fd
        self.tls = tls
        self.group = group
        self.options = options
        self.maxConnections = maxConnections
        self.onAccept = onAccept
    }

    func start() {
        queue.async { [self] in
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { [self] in acceptAll() }
            source.setCancelHandler { [self] in
                _ = Glibc.close(fd)
                self.source = nil
            }
            self.source = source
            if closed.load(ordering: .acquiring) {
                source.cancel()
            }
            source.resume()
        }
    }

    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async { [self] in
            guard let source else { return }
            source.cancel()
            if suspended {
                suspended = false
                source.resume()
            }
        }
    }

    private func acceptAll() {
        while !closed.load(ordering: .relaxed) {
            let client = accept(fd, nil, nil)  // accept4 is not imported (needs _GNU_SOURCE)
            if client < 0 {
                let e = errno
                if e == EINTR || e == ECONNABORTED { continue }
                if e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM {
                    backOff()  // out of descriptors: pause instead of spinning on a readable socket
                }
                return
            }
            admit(client)
        }
    }

    private func admit(_ client: Int32) {
        guard Socket.makeNonBlocking(client) else {
            _ = Glibc.close(client)
            return
        }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        if active.load(ordering: .relaxed) >= maxConnections {
            rejected.add(1, ordering: .relaxed)
            _ = Glibc.close(client)
            return
        }
        Socket.setNoDelay(client)
        var ssl: OpaquePointer?
        if let tls {
            switch tls.makeSession(fd: client, serverName: nil) {
            case .success(let session): ssl = session
            case .failure:
                _ = Glibc.close(client)
                return
            }
        }
        let connection = Connection(
            loop: group.next(), fd: client, ssl: ssl, isClient: false,
            state: tls == nil ? .open : .handshaking,
            remoteAddress: SocketAddress.remote(of: client), options: options)
        active.add(1, ordering: .relaxed)
        accepted.add(1, ordering: .relaxed)
        let counter = self  // keeps the counters alive until every connection is gone
        connection.teardownHook = { counter.active.subtract(1, ordering: .relaxed) }
        let onAccept = self.onAccept
        connection.execute {
            guard let handler = onAccept(connection) else {
                connection.close(.rejected)
                return
            }
            connection.handler = handler
            connection.start()
        }
    }

    private func backOff() {
        guard let source, !suspended else { return }
        suspended = true
        source.suspend()
        queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in
            guard suspended, let source = self.source else { return }
            suspended = false
            source.resume()
        }
    }
}
