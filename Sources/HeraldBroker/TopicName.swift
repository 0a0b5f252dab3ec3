/// SNS topic-name rules: 1–256 characters of ASCII letters, digits, `-` and `_`; a FIFO topic adds
/// the suffix `.fifo` (counted in the 256).
enum TopicName {
    static func validate(_ name: String) throws(BrokerError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 256 else {
            throw .invalidParameter("Topic name must be 1 to 256 characters: \(name.prefix(64))")
        }
        let suffix = Array(".fifo".utf8)
        var stem = bytes[...]
        if bytes.count > suffix.count, bytes.suffix(suffix.count).elementsEqual(suffix) {
            stem = bytes.dropLast(suffix.count)
        }
        for b in stem {
            let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
            guard ok else {
                throw .invalidParameter(
                    "Topic name may contain only letters, digits, '-' and '_' (and end in .fifo): \(name.prefix(64))")
            }
        }
    }
}
