import Yams

/// `http: {listen: HOST:PORT, tls: {cert, key}, publicURL: URL}`: the AWS-compatible API listener.
extension ConfigParse {
    func httpAPI(_ node: Node) -> HeraldConfig.HTTPAPI? {
        guard let map = reader.mapping(node, path: "http", keys: ["listen", "tls", "publicURL"]) else { return nil }
        var address: ListenAddress?
        if let listenNode = map.required("listen", reader), let text = reader.string(listenNode, path: map.child("listen")) {
            switch ListenAddress.parse(text) {
            case .success(let parsed): address = parsed
            case .failure(let problem): reader.report("\(map.child("listen")): \(problem)", at: listenNode)
            }
        }
        var tls: HeraldConfig.HTTPTLS?
        var tlsFailed = false
        if let tlsNode = map["tls"] {
            tls = httpTLS(tlsNode, path: map.child("tls"))
            tlsFailed = tls == nil
        }
        var publicURL: String?
        var publicURLFailed = false
        if let urlNode = map["publicURL"], let text = reader.string(urlNode, path: map.child("publicURL")) {
            switch Self.publicURL(text) {
            case .success(let url): publicURL = url
            case .failure(let why):
                reader.report("\(map.child("publicURL")): '\(text)': \(why)", at: urlNode)
                publicURLFailed = true
            }
        }
        guard let address, !tlsFailed, !publicURLFailed else { return nil }
        return HeraldConfig.HTTPAPI(listen: address, tls: tls, publicURL: publicURL)
    }

    private func httpTLS(_ node: Node, path: String) -> HeraldConfig.HTTPTLS? {
        guard let map = reader.mapping(node, path: path, keys: ["cert", "key"]) else { return nil }
        let cert = map.required("cert", reader).flatMap { existingFile($0, path: map.child("cert")) }
        let key = map.required("key", reader).flatMap { existingFile($0, path: map.child("key")) }
        guard let cert, let key else { return nil }
        return HeraldConfig.HTTPTLS(certificateFile: cert, privateKeyFile: key)
    }

    /// `http://HOST[:PORT][/PATH]` or `https://…`, returned without a trailing `/` (queue URLs
    /// append `/ACCOUNT/NAME`); a query, fragment, credentials or spaces are refused.
    static func publicURL(_ text: String) -> Result<String, PublicURLProblem> {
        let lower = text.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lower.hasPrefix($0) }) else {
            return .failure(PublicURLProblem("must start with http:// or https://"))
        }
        let rest = text.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" }
        guard !authority.isEmpty else { return .failure(PublicURLProblem("the host is missing")) }
        guard !text.contains(where: { $0 == "?" || $0 == "#" || $0 == " " || $0 == "@" }), text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 })
        else { return .failure(PublicURLProblem("only a scheme, host, optional port and path are allowed (no query, fragment, credentials or spaces)")) }
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        return .success(url)
    }

    struct PublicURLProblem: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
