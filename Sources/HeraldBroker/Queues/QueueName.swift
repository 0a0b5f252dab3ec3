import HeraldCore

/// SQS queue names: 1–80 characters of `A-Za-z0-9-_`; a FIFO queue's name ends in `.fifo`, which
/// counts toward the 80. Texts are SQS's ([spec] for FIFO, [inferred] for standard).
public enum QueueName {
    public static let maxLength = 80
    public static let fifoSuffix = ".fifo"

    public static func isFIFO(_ name: String) -> Bool { name.hasSuffix(fifoSuffix) }

    /// Validates `name` for a queue of the given kind (`fifo` nil: decided by the suffix).
    public static func validate(_ name: String, fifo: Bool? = nil) throws(HeraldError) {
        let wantsFIFO = fifo ?? isFIFO(name)
        let utf8 = Array(name.utf8)
        let stem = wantsFIFO && isFIFO(name) ? utf8.dropLast(fifoSuffix.utf8.count) : utf8[...]
        let stemOK = !stem.isEmpty && stem.allSatisfy(isNameByte)
        if wantsFIFO {
            guard isFIFO(name), stemOK, utf8.count <= maxLength else {
                throw HeraldError(
                    .invalidParameterValue,
                    "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
            }
        } else {
            guard stemOK, utf8.count <= maxLength else {
                throw HeraldError(.invalidParameterValue, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
            }
        }
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F: true
        default: false
        }
    }
}
