// HTTPServerResponder: the handle an HTTP handler answers one request with, from any thread.
import HeraldNet
import HeraldWire

/// Answers one request of one connection. Sendable: keep it, answer later from any thread. Only
/// the first call (`respond` or `abort`) counts; answers reach the peer in request order.
public struct HTTPServerResponder: Sendable {
    let connection: Connection
    let owner: HTTPServerConnection
    let sequence: UInt64

    /// Sends `response` (the server adds Content-Length and, when the connection ends, `Connection: close`).
    public func respond(_ response: HTTPResponse) {
        let (connection, owner, sequence) = (connection, owner, sequence)
        connection.execute { owner.answer(sequence, with: .response(response), on: connection) }
    }

    /// Sends only the first `byteCount` bytes of `response` as encoded, then closes the connection:
    /// a server that dies mid-response (for tests of clients).
    public func abort(after byteCount: Int, of response: HTTPResponse) {
        let (connection, owner, sequence) = (connection, owner, sequence)
        connection.execute { owner.answer(sequence, with: .truncated(response, byteCount), on: connection) }
    }
}
