@testable import HeraldWire

/// What an HTTP decoder produced from a byte stream: messages, then at most one error (all are final).
enum HTTPDecoded<Message: Hashable & Sendable>: Hashable, Sendable {
    case message(Message)
    case failure(HTTPError.Code, status: Int)
}

func decodeRequests<S: Sequence<ArraySlice<UInt8>>>(chunks: S, limits: HTTPLimits = .default) -> [HTTPDecoded<HTTPRequest>] {
    var decoder = HTTPRequestDecoder(limits: limits)
    var results: [HTTPDecoded<HTTPRequest>] = []
    do {
        for chunk in chunks {
            decoder.append(chunk)
            while let request = try decoder.next() { results.append(.message(request)) }
        }
        try decoder.finish()
    } catch {
        results.append(.failure(error.code, status: error.status))
    }
    return results
}

func decodeRequests(_ input: [UInt8], limits: HTTPLimits = .default) -> [HTTPDecoded<HTTPRequest>] {
    decodeRequests(chunks: [input[...]], limits: limits)
}

/// `methods` are the methods of the requests the responses answer, in order.
func decodeResponses<S: Sequence<ArraySlice<UInt8>>>(chunks: S, methods: [String], limits: HTTPLimits = .default) -> [HTTPDecoded<HTTPResponse>] {
    var decoder = HTTPResponseDecoder(limits: limits)
    for method in methods { decoder.expectResponse(to: method) }
    var results: [HTTPDecoded<HTTPResponse>] = []
    do {
        for chunk in chunks {
            decoder.append(chunk)
            while let response = try decoder.next() { results.append(.message(response)) }
        }
        if let last = try decoder.finish() { results.append(.message(last)) }
    } catch {
        results.append(.failure(error.code, status: error.status))
    }
    return results
}

func decodeResponses(_ input: [UInt8], methods: [String], limits: HTTPLimits = .default) -> [HTTPDecoded<HTTPResponse>] {
    decodeResponses(chunks: [input[...]], methods: methods, limits: limits)
}
