/// Strict UTF-8 checking shared by `JSONParser` and FilterPolicy's body scanner, so both accept
/// exactly the same bytes: well-formed UTF-8 with no overlong forms, no surrogates (U+D800–DFFF)
/// and nothing past U+10FFFF.
public enum UTF8Validation {
    /// The first ill-formed byte of a text.
    public struct Problem: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            /// A byte that cannot start a sequence (a stray continuation byte, C0, C1, F5–FF).
            case invalidStartByte(UInt8)
            /// A byte inside a sequence that does not continue it.
            case invalidMiddleByte(UInt8)
            /// The text ends inside a sequence.
            case truncated
        }

        public var kind: Kind
        /// Where the problem is: the bad byte, or the end of the text for `.truncated`.
        public var offset: Int
    }

    /// The first problem in `bytes`, or nil when all of it is well-formed UTF-8.
    public static func firstProblem(in bytes: UnsafeBufferPointer<UInt8>) -> Problem? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return Problem(kind: .invalidStartByte(b), offset: i)
            }
            for k in 1..<length {
                guard i + k < n else { return Problem(kind: .truncated, offset: n) }
                let c = bytes[i + k]
                let valid = k == 1 ? (c >= low && c <= high) : (c >= 0x80 && c <= 0xBF)
                guard valid else { return Problem(kind: .invalidMiddleByte(c), offset: i + k) }
            }
            i += length
        }
        return nil
    }
}
