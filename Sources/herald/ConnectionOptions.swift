import ArgumentParser
import HeraldClient

/// Options every client command shares: where the server is and how to authenticate.
struct ConnectionArguments: ParsableArguments {
    @Option(help: "Server address as HOST:PORT.")
    var server: String = "127.0.0.1:4433"

    @Option(help: "CA certificate that signs the server's certificate (PEM).")
    var ca: String?

    @Option(help: "Client certificate for mutual TLS (PEM).")
    var cert: String?

    @Option(help: "Client private key for mutual TLS (PEM).")
    var key: String?

    @Option(help: "Access token sent in CONNECT.")
    var token: String?

    @Option(help: "Session id to resume (unacked messages are redelivered). Only the user that created the session may resume it; anonymous clients only an id the server issued them.")
    var session: String?

    func clientOptions(name: String) throws -> ClientOptions {
        let (host, port) = try serverAddress(server)
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        return ClientOptions(
            host: host, port: port, caFile: ca, certificateFile: cert, privateKeyFile: key,
            token: token, session: session, clientName: name)
    }
}

extension ConnectionArguments {
    /// Connects, or prints `herald: cannot connect: …` (with what to do about it, where we know)
    /// and fails with exit status 1. Every client command connects through here.
    func connect(name: String) throws -> HeraldClient {
        do {
            return try HeraldClient.connect(clientOptions(name: name))
        } catch let error as ClientError {
            throw Terminal.fail(ConnectFailure.text(error, caFile: ca))
        }
    }
}

/// The text of a failed connect: the error, and a hint on the next line when the fix is known.
enum ConnectFailure {
    /// The CA the development set-up (`make serve`, `herald serve` without a config) signs with.
    static let devCA = "certs/dev-ca.pem"

    static func text(_ error: ClientError, caFile: String?) -> String {
        let text = "cannot connect: \(error)"
        guard let hint = hint(for: error, caFile: caFile) else { return text }
        return text + "\nhint: " + hint
    }

    static func hint(for error: ClientError, caFile: String?) -> String? {
        guard error.description.contains("certificate verify failed") else { return nil }
        let which = caFile.map { "the CA in \($0) did not sign the server's certificate" } ?? "the server's certificate is not signed by a CA this system trusts"
        return "\(which): pass --ca <file> with the CA that signed it (the development set-up's is \(devCA): --ca \(devCA))"
    }
}

/// `--server`'s HOST:PORT (an IPv6 host in brackets), for every client command and benchmark.
func serverAddress(_ server: String) throws -> (host: String, port: Int) {
    guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]), (1...65535).contains(port) else {
        throw ValidationError("--server must be HOST:PORT, got '\(server)'")
    }
    var host = String(server[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return (host, port)
}
