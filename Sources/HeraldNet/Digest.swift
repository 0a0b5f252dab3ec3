import CHeraldOpenSSL

/// MD5 from the system OpenSSL, as lower-case hex: SQS's `MD5OfMessageBody` (SHA-256 for content
/// deduplication is HeraldCore's `SHA256`, which the pure modules can use).
public enum Digest {
    public static func md5Hex(_ bytes: [UInt8]) -> String { hex(bytes, EVP_md5()) }

    private static func hex(_ bytes: [UInt8], _ md: OpaquePointer?) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { out in
                EVP_Digest(input.baseAddress, input.count, out.baseAddress, &length, md, nil)
            }
        }
        guard ok == 1 else { return "" }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(Int(length) * 2)
        for byte in digest.prefix(Int(length)) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
