// SocketAddress and small POSIX socket helpers (resolution, non-blocking mode, options, SIGPIPE).
// Resolution uses getaddrinfo, which may block for DNS names; literals and "localhost" are instant.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A resolved IPv4 or IPv6 socket address.
public struct SocketAddress: Sendable, CustomStringConvertible {
    var storage: sockaddr_storage
    var length: socklen_t

    var family: Int32 { Int32(storage.ss_family) }

    /// Resolves `host` (IPv4/IPv6 literal or name; "" or "*" means any IPv6+IPv4 address when `passive`)
    /// and `port` to the first usable address.
    public static func resolve(host: String, port: Int, passive: Bool = false) throws(NetError) -> SocketAddress {
        guard (0...65535).contains(port) else {
            throw NetError(.addressResolution, "port \(port) is out of range")
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)
        var literal = host
        if literal.hasPrefix("[") && literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        let node: String? = (literal.isEmpty || literal == "*") ? (passive ? nil : "localhost") : literal
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(node, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            let reason = gai_strerror(rc).map { String(cString: $0) } ?? "error \(rc)"
            throw NetError(.addressResolution, "cannot resolve \(host):\(port): \(reason)")
        }
        defer { freeaddrinfo(result) }
        // A passive wildcard prefers IPv6 (dual-stack on Linux, so IPv4 clients reach it too).
        // A client name prefers IPv4: "localhost" then reaches both a 127.0.0.1 and a dual-stack
        // listener (there is no fallback to the next address after a refused connect).
        let preferred = node == nil ? AF_INET6 : AF_INET
        var chosen = first
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if entry.pointee.ai_family == preferred { chosen = entry; break }
            cursor = entry.pointee.ai_next
        }
        var address = SocketAddress(storage: sockaddr_storage(), length: chosen.pointee.ai_addrlen)
        withUnsafeMutableBytes(of: &address.storage) { dst in
            if let src = chosen.pointee.ai_addr {
                dst.copyMemory(from: UnsafeRawBufferPointer(start: src, count: Int(chosen.pointee.ai_addrlen)))
            }
        }
        return address
    }

    /// True for an IPv4 or IPv6 literal (brackets allowed around IPv6).
    public static func isIPLiteral(_ host: String) -> Bool {
        var literal = host
        if literal.hasPrefix("[") && literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, literal, &v4) == 1 || inet_pton(AF_INET6, literal, &v6) == 1
    }

    /// The numeric host of this address ("127.0.0.1", "::1").
    public var host: String {
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var copy = storage
        let rc = withUnsafePointer(to: &copy) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                getnameinfo(sa, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
            }
        }
        guard rc == 0 else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var port: Int {
        var copy = storage
        return withUnsafePointer(to: &copy) { ptr -> Int in
            if family == AF_INET {
                return ptr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
            return ptr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
        }
    }

    public var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    static func local(of fd: Int32) -> SocketAddress? { query(fd, getsockname) }
    static func remote(of fd: Int32) -> SocketAddress? { query(fd, getpeername) }

    private static func query(
        _ fd: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> SocketAddress? {
        var address = SocketAddress(storage: sockaddr_storage(), length: socklen_t(MemoryLayout<sockaddr_storage>.size))
        let rc = withUnsafeMutablePointer(to: &address.storage) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &address.length) }
        }
        return rc == 0 ? address : nil
    }
}

/// Process-wide networking setup.
public enum Net {
    /// OpenSSL writes with write(2), so a peer reset would raise SIGPIPE and kill the process.
    /// Idempotent; Listener and Connection.connect call it too.
    public static func ignoreSIGPIPE() {
        _ = signal(SIGPIPE, SIG_IGN)
    }

    /// Number of online cores (at least 1).
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

enum Socket {
    static func makeNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL, 0)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// TCP_CORK: while set, the kernel holds partial segments; clearing it sends them at once.
    static func setCork(_ fd: Int32, _ on: Bool) {
        setOption(fd, Int32(IPPROTO_TCP), TCP_CORK, on ? 1 : 0)
    }

    static func setNoDelay(_ fd: Int32) {
        setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    }

    static func streamSocket(family: Int32) -> Int32 {
        #if canImport(Glibc)
        return socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        return socket(family, SOCK_STREAM, 0)
        #endif
    }
}

extension SocketAddress {
    /// A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close): for tests
    /// and benchmarks that must name a port before a server binds it.
    public static func freeLoopbackPort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
