// LoopbackSocket: a TCP socket bound to 127.0.0.1 on an ephemeral port, for test servers.
import Foundation
import HeraldNet

enum LoopbackSocket {
    /// A new socket bound to 127.0.0.1 on a port the kernel picks, listening with `backlog` when
    /// given (else only bound), and that port. The caller owns the descriptor.
    static func bind(listening backlog: Int32?) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NetError(.socket, "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                Glibc.bind(fd, pointer, length) == 0 && (backlog.map { listen(fd, $0) == 0 } ?? true)
                    && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            let reason = errno
            _ = Glibc.close(fd)
            throw NetError(.socket, "bind\(backlog == nil ? "" : "/listen") on 127.0.0.1 failed: errno \(reason)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
