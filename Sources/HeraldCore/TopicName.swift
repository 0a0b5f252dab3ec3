/// Topic-name rules (SNS): 1–256 characters from `A-Z a-z 0-9 _ -`; a FIFO topic ends in `.fifo`,
/// which counts toward the 256.
public enum TopicName {
    public static let maxLength = 256

    /// Whether `utf8` is a valid topic name. Inlinable so decoders get it specialised (no generic
    /// dispatch on the hot path).
    @inlinable
    public static func isValid<C: Collection<UInt8>>(utf8: C) -> Bool {
        let count = utf8.count
        guard count >= 1, count <= maxLength else { return false }
        var index = utf8.startIndex
        var position = 0
        while index != utf8.endIndex {
            let byte = utf8[index]
            if !isNameByte(byte) {
                // The only other byte allowed is the `.` of a trailing `.fifo` after a non-empty base.
                return byte == 0x2E && position > 0 && position == count - 5 && hasFIFOSuffix(utf8: utf8)
            }
            index = utf8.index(after: index)
            position += 1
        }
        return true
    }

    public static func isValid(_ name: String) -> Bool { isValid(utf8: name.utf8) }

    /// Whether the name ends in `.fifo` (a FIFO topic).
    public static func isFIFO(_ name: String) -> Bool { hasFIFOSuffix(utf8: name.utf8) }

    @inlinable
    static func hasFIFOSuffix<C: Collection<UInt8>>(utf8: C) -> Bool {
        let suffix: [UInt8] = [0x2E, 0x66, 0x69, 0x66, 0x6F]  // ".fifo"
        return utf8.count >= 5 && utf8.suffix(5).elementsEqual(suffix)
    }

    /// `A-Z a-z 0-9 _ -`.
    @inlinable
    public static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == 0x5F || byte == 0x2D
    }

    /// Why `name` is not a valid topic name (a sentence for config problems and error frames),
    /// or nil when it is.
    public static func problem(in name: String) -> String? {
        if isValid(name) { return nil }
        let base = name.hasSuffix(".fifo") ? String(name.dropLast(5)) : name
        if base.isEmpty { return "topic name is empty" }
        if name.utf8.count > maxLength { return "topic name '\(name.prefix(40))…' is longer than \(maxLength) characters" }
        return "topic name '\(name.prefix(64))' may only use A-Z a-z 0-9 _ - (and end in .fifo for a FIFO topic)"
    }

    /// `A-Z a-z 0-9 _ -` as a Character.
    public static func isNameCharacter(_ c: Character) -> Bool {
        guard let ascii = c.asciiValue else { return false }
        return isNameByte(ascii)
    }
}
