#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The last valid topic a decoder built, by its bytes: PUBs of a publisher mostly name one topic,
/// and validating it and building its String per frame showed in profiles.
struct TopicCache: Sendable {
    private var bytes: [UInt8] = []
    private var string = ""

    /// The topic `token` names, or nil when it is not a valid topic name.
    mutating func topic(_ line: ControlLine, _ token: Range<Int>) -> String? {
        let slice = line.slice(token)
        if !bytes.isEmpty, slice.count == bytes.count,
           bytes.withUnsafeBytes({ cached in
               guard let a = cached.baseAddress, let b = slice.baseAddress else { return false }
               return memcmp(a, b, cached.count) == 0  // a byte-by-byte compare showed per PUB
           }) {
            return string
        }
        guard line.isTopic(token) else { return nil }
        let text = line.string(token)
        bytes = Array(slice)
        string = text
        return text
    }
}
