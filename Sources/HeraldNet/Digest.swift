import CHeraldOpenSSL

/// MD5 from the system OpenSSL, as lower-case hex: SQS's `MD5OfMessageBody` (SHA-256 for content
/// deduplication is HeraldCore's `SHA256`, which the pure modules can use). Called per message a
/// queue sends or receives (any thread), so it allocates only the returned String.
public enum Digest {
    public static func md5Hex(_ bytes: [UInt8]) -> String { hex(bytes, md5) }

    /// Fetched once: `EVP_md5()` makes OpenSSL 3 look the algorithm up in its providers per call.
    /// An `EVP_MD` is immutable and safe to share between threads.
    nonisolated(unsafe) private static let md5: OpaquePointer? = EVP_MD_fetch(nil, "MD5", nil) ?? EVP_md5()

    private static func hex(_ bytes: [UInt8], _ md: OpaquePointer?) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(EVP_MAX_MD_SIZE)) { digest -> String in
            var length: UInt32 = 0
            let ok = bytes.withUnsafeBytes { input in
                EVP_Digest(input.baseAddress, input.count, digest.baseAddress, &length, md, nil)
            }
            guard ok == 1 else { return "" }
            let count = Int(min(length, UInt32(EVP_MAX_MD_SIZE)))
            return String(unsafeUninitializedCapacity: count * 2) { text in
                for index in 0..<count {
                    text[2 * index] = digit(digest[index] >> 4)
                    text[2 * index + 1] = digit(digest[index] & 0xF)
                }
                return count * 2
            }
        }
    }

    private static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
