/// Bounds an HTTP decoder enforces before it buffers what a peer declares, so a peer cannot make
/// Herald commit memory it did not mean to give.
public struct HTTPLimits: Sendable, Hashable {
    /// Longest request line, status line, header line or chunk-size line, counting its CRLF.
    public var maxLineBytes: Int = 8192
    /// Most header fields in one message (trailers are counted apart, with the same bound).
    public var maxHeaderCount: Int = 100
    /// All header lines of one message together, counting CRLFs and the blank line (not the start
    /// line); a chunked body's trailer section has a budget of the same size.
    public var maxHeaderBytes: Int = 65_536
    /// Largest body, declared (Content-Length, chunk sizes) or read to close. The default leaves room
    /// above SQS's 1 MiB batch for JSON escaping and an SNS envelope around it.
    public var maxBodyBytes: Int = 2_097_152 + 65_536

    public init(maxLineBytes: Int = 8192, maxHeaderCount: Int = 100, maxHeaderBytes: Int = 65_536, maxBodyBytes: Int = 2_097_152 + 65_536) {
        self.maxLineBytes = maxLineBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    public static let `default` = HTTPLimits()
}
