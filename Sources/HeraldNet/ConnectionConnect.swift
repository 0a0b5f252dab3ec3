// Client side of Connection: a non-blocking TCP connect followed by the client TLS handshake, both
// bounded by `options.handshakeTimeout`. Failures after the call returns arrive as
// `connectionDidClose` with `.connectFailed`, `.handshakeFailed` or `.handshakeTimeout`.
import CHeraldOpenSSL
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Connection {
    /// Starts connecting to `host:port`. `tls` must be a client context (nil = plain TCP).
    /// `serverName` (default: `host`) is sent as SNI and checked against the server certificate
    /// (DNS name or IP literal). `makeHandler` runs on the new connection's queue before any event.
    /// Throws only for immediate failures (resolution, socket, TLS setup); the returned connection
    /// must be used only on its queue (`execute { }`).
    @discardableResult
    public static func connect(
        host: String,
        port: Int,
        tls: TLSContext?,
        serverName: String? = nil,
        group: EventLoopGroup = .shared,
        options: ConnectionOptions = ConnectionOptions(),
        makeHandler: @escaping @Sendable (Connection) -> any ConnectionHandler
    ) throws(NetError) -> Connection {
        Net.ignoreSIGPIPE()
        if let tls, tls.isServer {
            throw NetError(.tlsConfiguration, "connect needs a client TLS context")
        }
        let address = try SocketAddress.resolve(host: host, port: port)
        let fd = Socket.streamSocket(family: address.family)
        guard fd >= 0 else { throw NetError(.socket, "socket(): \(ErrorText.errno(errno))") }
        guard Socket.makeNonBlocking(fd) else {
            let reason = ErrorText.errno(errno)
            _ = Glibc.close(fd)
            throw NetError(.socket, "fcntl(O_NONBLOCK): \(reason)")
        }
        Socket.setNoDelay(fd)
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        let connectErrno = errno
        if rc != 0 && connectErrno != EINPROGRESS && connectErrno != EINTR {
            _ = Glibc.close(fd)
            throw NetError(.socket, "cannot connect to \(address): \(ErrorText.errno(connectErrno))")
        }
        var ssl: OpaquePointer?
        if let tls {
            var name = serverName ?? host
            if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
            switch tls.makeSession(fd: fd, serverName: name) {
            case .success(let session): ssl = session
            case .failure(let error):
                _ = Glibc.close(fd)
                throw error
            }
        }
        let state: State = rc != 0 ? .connecting : (ssl == nil ? .open : .handshaking)
        let connection = Connection(loop: group.next(), fd: fd, ssl: ssl, isClient: true, state: state,
                                    remoteAddress: address, options: options)
        connection.execute {
            connection.handler = makeHandler(connection)
            connection.start()
        }
        return connection
    }
}
