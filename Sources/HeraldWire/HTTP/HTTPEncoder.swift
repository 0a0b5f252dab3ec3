/// Serialisation of requests and responses. Pure: the caller writes the bytes.
///
/// Every method, target, reason, header name and value is checked first: a CR, LF, NUL or other
/// control byte (or a space in a token) would let data injected into a header start a new header or
/// message, so it throws `invalidField` instead. Framing is the encoder's: any given Content-Length or
/// Transfer-Encoding is replaced by the body's Content-Length. Host and every other header are sent
/// as given, in order.
extension HTTPRequest {
    public func encode() throws(HTTPError) -> [UInt8] {
        guard HTTPSyntax.isToken(method.utf8) else { throw HTTPError(.invalidField, "method '\(method.prefix(32))' is not a token") }
        guard !target.isEmpty, target.utf8.allSatisfy(HTTPSyntax.isTargetByte) else {
            throw HTTPError(.invalidField, "request-target is empty or has bytes other than visible ASCII")
        }
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        out.append(contentsOf: method.utf8)
        out.append(HTTPSyntax.sp)
        out.append(contentsOf: target.utf8)
        out.append(HTTPSyntax.sp)
        out.append(contentsOf: version.description.utf8)
        HTTPEncoding.appendLineEnd(&out)
        // A body, or a method whose semantics expect one, announces its length.
        let sendsLength = !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method)
        try HTTPEncoding.appendHeaders(headers, contentLength: sendsLength ? body.count : nil, to: &out)
        out.append(contentsOf: body)
        return out
    }
}

extension HTTPResponse {
    /// `omittingBody`: for a response to HEAD, send the headers (with the body's Content-Length) but
    /// not the body. 1xx, 204 and 304 responses never carry a body or get a Content-Length added.
    public func encode(omittingBody: Bool = false) throws(HTTPError) -> [UInt8] {
        guard (100...999).contains(status) else { throw HTTPError(.invalidField, "status \(status) is not three digits") }
        guard reason.utf8.allSatisfy(HTTPSyntax.isFieldValueByte) else { throw HTTPError(.invalidField, "reason phrase contains a control byte") }
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        out.append(contentsOf: version.description.utf8)
        out.append(HTTPSyntax.sp)
        out.append(contentsOf: String(status).utf8)
        out.append(HTTPSyntax.sp)
        out.append(contentsOf: reason.utf8)
        HTTPEncoding.appendLineEnd(&out)
        let bodyless = HTTPResponse.isBodyless(status: status)
        if bodyless {
            try HTTPEncoding.appendHeaders(headers, contentLength: nil, to: &out)
        } else {
            try HTTPEncoding.appendHeaders(headers, contentLength: body.count, to: &out)
            if !omittingBody { out.append(contentsOf: body) }
        }
        return out
    }
}

/// Shared pieces of the encoders, and chunked output for a body sent as it is produced.
public enum HTTPEncoding {
    static func appendLineEnd(_ out: inout [UInt8]) {
        out.append(HTTPSyntax.cr)
        out.append(HTTPSyntax.lf)
    }

    /// Headers in order, then `Content-Length` when given (replacing any framing header), then the
    /// blank line.
    static func appendHeaders(_ headers: HTTPHeaders, contentLength: Int?, to out: inout [UInt8]) throws(HTTPError) {
        for field in headers {
            guard HTTPSyntax.isToken(field.name.utf8) else {
                throw HTTPError(.invalidField, "header name '\(field.name.prefix(32))' is not a token")
            }
            guard field.value.utf8.allSatisfy(HTTPSyntax.isFieldValueByte) else {
                throw HTTPError(.invalidField, "value of header '\(field.name.prefix(32))' contains CR, LF or another control byte")
            }
            if contentLength != nil,
                HTTPHeaders.namesEqual(field.name, "Content-Length") || HTTPHeaders.namesEqual(field.name, "Transfer-Encoding")
            {
                continue
            }
            out.append(contentsOf: field.name.utf8)
            out.append(UInt8(ascii: ":"))
            out.append(HTTPSyntax.sp)
            out.append(contentsOf: field.value.utf8)
            appendLineEnd(&out)
        }
        if let contentLength {
            out.append(contentsOf: "Content-Length: \(contentLength)".utf8)
            appendLineEnd(&out)
        }
        appendLineEnd(&out)
    }

    /// Appends one chunk of a `Transfer-Encoding: chunked` body (an empty `data` appends nothing:
    /// the zero-size chunk would end the body; use `appendLastChunk`).
    public static func appendChunk(_ data: some Collection<UInt8>, to out: inout [UInt8]) {
        guard !data.isEmpty else { return }
        out.append(contentsOf: String(data.count, radix: 16).utf8)
        appendLineEnd(&out)
        out.append(contentsOf: data)
        appendLineEnd(&out)
    }

    /// Ends a chunked body (no trailers).
    public static func appendLastChunk(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "0"))
        appendLineEnd(&out)
        appendLineEnd(&out)
    }
}
