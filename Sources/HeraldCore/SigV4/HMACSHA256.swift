/// HMAC-SHA256 (RFC 2104) on HeraldCore's SHA-256: what SigV4's key derivation and signature use.
public enum HMACSHA256 {
    static let blockSize = 64

    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var block = key.count > blockSize ? SHA256.digest(key) : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        let inner = SHA256.digest(block.map { $0 ^ 0x36 } + message)
        return SHA256.digest(block.map { $0 ^ 0x5C } + inner)
    }
}
