/// `http:`: the listener of the AWS-compatible HTTP API (SQS JSON protocol today; SNS next).
/// Optional: absent, no HTTP listener is opened — except in the embedded defaults, which listen on
/// LocalStack's `127.0.0.1:4566` so local set-ups point at Herald unchanged.
extension HeraldConfig {
    public struct HTTPAPI: Sendable, Hashable {
        /// Where to listen (port 0: a free port, read back after start).
        public var listen: ListenAddress
        /// Certificate chain and key (absolute paths); nil serves plain HTTP.
        public var tls: HTTPTLS?
        /// Base of queue URLs and of the signing certificate's URL, without a trailing `/`
        /// (e.g. `http://herald.internal:4566`); nil: `http(s)://` + the bound listen address.
        public var publicURL: String?

        /// LocalStack's port: the embedded defaults' API address.
        public static let defaultListenAddress = ListenAddress(host: "127.0.0.1", port: 4566)

        public init(listen: ListenAddress = defaultListenAddress, tls: HTTPTLS? = nil, publicURL: String? = nil) {
            self.listen = listen
            self.tls = tls
            self.publicURL = publicURL
        }

        /// The configured public URL, or the scheme and listen address with the port actually
        /// bound (`boundPort` differs from `listen.port` when that is 0). A wildcard listen host
        /// (`0.0.0.0`, `::`) is not an address a client can call: loopback stands in for it.
        public func effectivePublicURL(boundPort: Int) -> String {
            if let publicURL { return publicURL }
            var host = listen.host
            if host == "0.0.0.0" { host = "127.0.0.1" }
            if host == "::" { host = "::1" }
            let address = ListenAddress(host: host, port: UInt16(clamping: boundPort))
            return "\(tls == nil ? "http" : "https")://\(address)"
        }
    }

    /// The API listener's TLS files: the same certificate settings as a stream listener's, without
    /// client certificates (API callers authenticate with SigV4).
    public struct HTTPTLS: Sendable, Hashable {
        public var certificateFile: String
        public var privateKeyFile: String

        public init(certificateFile: String, privateKeyFile: String) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
        }
    }
}

/// `httpDelivery:`: how Herald calls the endpoints of HTTP/S subscriptions (and managed consumers).
extension HeraldConfig {
    public struct HTTPDelivery: Sendable, Hashable {
        /// CA certificates (PEM) trusted for https endpoints, in addition to the system trust store.
        public var caFile: String?
        /// A POST must be answered within this, or it counts as a failed (retryable) attempt.
        /// SNS does not document its own; 15 s is the figure usually quoted.
        public var timeout: Duration = .seconds(15)
        /// Concurrent POSTs per subscription (each on its own keep-alive connection).
        public var maxConnectionsPerEndpoint: Int = 16

        public init(caFile: String? = nil, timeout: Duration = .seconds(15), maxConnectionsPerEndpoint: Int = 16) {
            self.caFile = caFile
            self.timeout = timeout
            self.maxConnectionsPerEndpoint = maxConnectionsPerEndpoint
        }
    }
}

extension HeraldConfig.SubscriptionProtocol {
    /// Why `endpoint` is not a URL an `http`/`https` subscription can use, or nil. SNS's text when
    /// the scheme does not match: "Invalid parameter: Endpoint must match the specified protocol".
    public static func endpointProblem(_ endpoint: String, protocol name: String) -> String? {
        let scheme = name == "https" ? "https://" : "http://"
        guard endpoint.lowercased().hasPrefix(scheme) else {
            return "Invalid parameter: Endpoint must match the specified protocol (\(name) needs a \(scheme) URL)"
        }
        return EndpointURL.problem(endpoint)
    }
}

/// `aws: {region, account}`: how Herald names itself in ARNs and queue URLs
/// (`arn:aws:sns:<region>:<account>:<topic>`, `<publicURL>/<account>/<queue>`).
extension HeraldConfig {
    public struct AWSIdentity: Sendable, Hashable {
        public var region: String = "us-east-1"
        public var account: String = "000000000000"

        public init(region: String = "us-east-1", account: String = "000000000000") {
            self.region = region
            self.account = account
        }
    }
}
