/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), in software, slicing-by-8.
/// Used for every journal frame and segment header (docs/STORAGE.md). Pure; safe from any thread.
public enum CRC32C {
    /// `checksum("123456789".utf8) == 0xE3069283`.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        update(0, bytes)
    }

    /// Continues `crc` (a finished checksum of the bytes before) over `bytes`.
    public static func update<C: Collection>(_ crc: UInt32, _ bytes: C) -> UInt32 where C.Element == UInt8 {
        if let fast = bytes.withContiguousStorageIfAvailable({ update(crc, UnsafeRawBufferPointer($0)) }) {
            return fast
        }
        return Array(bytes).withUnsafeBytes { update(crc, $0) }
    }

    /// Continues `crc` over raw bytes (8 at a time while it can).
    public static func update(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        var index = 0
        let count = buffer.count
        table.withUnsafeBufferPointer { t in
            while count - index >= 8 {
                let lo = UInt32(buffer[index]) | UInt32(buffer[index + 1]) << 8 | UInt32(buffer[index + 2]) << 16 | UInt32(buffer[index + 3]) << 24
                let x = c ^ lo
                c = t[7 * 256 + Int(x & 0xFF)] ^ t[6 * 256 + Int((x >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((x >> 16) & 0xFF)] ^ t[4 * 256 + Int(x >> 24)]
                    ^ t[3 * 256 + Int(buffer[index + 4])] ^ t[2 * 256 + Int(buffer[index + 5])]
                    ^ t[1 * 256 + Int(buffer[index + 6])] ^ t[Int(buffer[index + 7])]
                index += 8
            }
            while index < count {
                c = t[Int((c ^ UInt32(buffer[index])) & 0xFF)] ^ (c >> 8)
                index += 1
            }
        }
        return ~c
    }

    /// 8 tables of 256: table k maps a byte to its CRC after k further zero bytes.
    private static let table: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k * 256 + i] = (t[(k - 1) * 256 + i] >> 8) ^ t[Int(t[(k - 1) * 256 + i] & 0xFF)] }
        }
        return t
    }()
}
