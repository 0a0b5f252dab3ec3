// What this test process holds (server and test clients share it): open descriptors, memory.
import Foundation

/// Open file descriptors of this process.
public func openFileDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

/// Resident set size of this process, in bytes.
public func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Descriptors of this process that are TCP connections to or from `port` (listening sockets and
/// TIME_WAIT leftovers excluded). Unlike `openFileDescriptorCount`, suites running meanwhile in
/// this process (`swift test` in parallel) and dispatch's own descriptors do not change it; a dup'ed
/// descriptor of a connection still counts twice.
public func connectionDescriptorCount(port: Int) -> Int {
    var inodes = Set<Substring>()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        // Read to EOF: /proc files report size 0, so no size-based read.
        guard let data = FileHandle(forReadingAtPath: table)?.readDataToEndOfFile() else { continue }
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n").dropFirst() {
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[3] != "0A", fields[9] != "0" else { continue }
            let ports = [fields[1], fields[2]].compactMap { $0.split(separator: ":").last.flatMap { Int($0, radix: 16) } }
            if ports.contains(port) { inodes.insert(fields[9]) }
        }
    }
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return fds.count { fd in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + fd),
              target.hasPrefix("socket:["), target.hasSuffix("]") else { return false }
        return inodes.contains(target.dropFirst(8).dropLast())
    }
}
