// TLSContext: owns one OpenSSL SSL_CTX configured for Herald (TLS 1.2 minimum, 1.3 preferred, modern
// AEAD ciphers, no compression, no renegotiation, partial writes with a moving write buffer,
// read-ahead, optionally released idle buffers) and creates per-connection SSL sessions from it.
// Immutable after creation, so it is shared freely across queues.
import CHeraldOpenSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class TLSContext: @unchecked Sendable {
    /// Whether a server asks for and checks client certificates (mutual TLS).
    public enum ClientCertificatePolicy: Sendable, Hashable {
        /// No client certificate is requested.
        case none
        /// Requested and verified against the client CA when presented; clients without one are accepted.
        case optional
        /// Clients without a valid certificate fail the handshake.
        case required
    }

    public let isServer: Bool
    /// Whether a client context verifies the server's certificate and name.
    public let verifiesPeer: Bool
    let ctx: OpaquePointer

    /// TLS 1.2 suites: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only.
    static let tls12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
        + "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
        + "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    private init(ctx: OpaquePointer, isServer: Bool, verifiesPeer: Bool) {
        self.ctx = ctx
        self.isServer = isServer
        self.verifiesPeer = verifiesPeer
    }

    deinit { SSL_CTX_free(ctx) }

    /// A server context from a PEM certificate chain (leaf first) and its PEM private key.
    /// With `clientCAFile`, client certificates are requested per `clientCertificates`.
    public static func server(
        certificateChainFile: String,
        privateKeyFile: String,
        clientCAFile: String? = nil,
        clientCertificates: ClientCertificatePolicy = .none,
        releaseIdleBuffers: Bool = false
    ) throws(NetError) -> TLSContext {
        if clientCertificates != .none && clientCAFile == nil {
            throw NetError(.tlsConfiguration, "client certificates are \(clientCertificates) but no client CA file is set")
        }
        let ctx = try makeContext(method: TLS_server_method(), releaseIdleBuffers: releaseIdleBuffers)
        let context = TLSContext(ctx: ctx, isServer: true, verifiesPeer: clientCertificates != .none)
        _ = SSL_CTX_set_options(ctx, cherald_op_cipher_server_preference())
        try loadIdentity(ctx, chain: certificateChainFile, key: privateKeyFile)
        // Needed so that sessions resumed on a verifying server are accepted.
        let sid: [UInt8] = Array("herald".utf8)
        _ = SSL_CTX_set_session_id_context(ctx, sid, UInt32(sid.count))
        if let caFile = clientCAFile {
            try checkReadable(caFile, what: "client CA file")
            ERR_clear_error()
            guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
                throw NetError(.invalidCertificate, "cannot load client CA file \(caFile): \(ErrorText.openSSL())")
            }
            guard let names = SSL_load_client_CA_file(caFile) else {
                throw NetError(.invalidCertificate, "no CA certificate in \(caFile): \(ErrorText.openSSL())")
            }
            SSL_CTX_set_client_CA_list(ctx, names)  // takes ownership
            switch clientCertificates {
            case .none: SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
            case .optional: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
            case .required: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
            }
        }
        return context
    }

    /// A client context. `caFile` nil uses the system trust store. A client certificate and key are
    /// for mutual TLS. `verifyServer: false` skips certificate and name checks (development only).
    public static func client(
        caFile: String?,
        certificateChainFile: String? = nil,
        privateKeyFile: String? = nil,
        verifyServer: Bool = true,
        releaseIdleBuffers: Bool = false,
        alsoSystemTrustStore: Bool = false
    ) throws(NetError) -> TLSContext {
        let ctx = try makeContext(method: TLS_client_method(), releaseIdleBuffers: releaseIdleBuffers)
        let context = TLSContext(ctx: ctx, isServer: false, verifiesPeer: verifyServer)
        switch (certificateChainFile, privateKeyFile) {
        case (nil, nil): break
        case let (chain?, key?): try loadIdentity(ctx, chain: chain, key: key)
        default: throw NetError(.tlsConfiguration, "a client certificate needs both a certificate file and a key file")
        }
        if let caFile {
            try checkReadable(caFile, what: "CA file")
            ERR_clear_error()
            guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
                throw NetError(.invalidCertificate, "cannot load CA file \(caFile): \(ErrorText.openSSL())")
            }
            if alsoSystemTrustStore { _ = SSL_CTX_set_default_verify_paths(ctx) }
        } else {
            _ = SSL_CTX_set_default_verify_paths(ctx)
        }
        SSL_CTX_set_verify(ctx, verifyServer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        return context
    }

    /// A new SSL session on `fd`. For clients, `serverName` drives SNI (DNS names only) and the
    /// certificate name/IP check. Returns nil with OpenSSL's reason on failure.
    func makeSession(fd: Int32, serverName: String?) -> Result<OpaquePointer, NetError> {
        ERR_clear_error()
        guard let ssl = SSL_new(ctx) else {
            return .failure(NetError(.tlsConfiguration, "SSL_new failed: \(ErrorText.openSSL())"))
        }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return .failure(NetError(.tlsConfiguration, "SSL_set_fd failed: \(ErrorText.openSSL())"))
        }
        if isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let name = serverName, !name.isEmpty {
                if SocketAddress.isIPLiteral(name) {
                    if verifiesPeer, X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1 {
                        SSL_free(ssl)
                        return .failure(NetError(.tlsConfiguration, "invalid IP for verification: \(name)"))
                    }
                } else {
                    _ = cherald_set_tlsext_host_name(ssl, name)
                    if verifiesPeer, SSL_set1_host(ssl, name) != 1 {
                        SSL_free(ssl)
                        return .failure(NetError(.tlsConfiguration, "invalid host name for verification: \(name)"))
                    }
                }
            }
        }
        return .success(ssl)
    }

    /// `releaseIdleBuffers` (SSL_MODE_RELEASE_BUFFERS) frees OpenSSL's record buffers between
    /// reads/writes: about 10 KB less per idle connection, but libssl then allocates per record
    /// (measured: 0.22 vs 0.14 mallocs per echoed 132-B message). Off by default.
    private static func makeContext(method: OpaquePointer?, releaseIdleBuffers: Bool) throws(NetError) -> OpaquePointer {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(method) else {
            throw NetError(.tlsConfiguration, "SSL_CTX_new failed: \(ErrorText.openSSL())")
        }
        guard cherald_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 else {
            SSL_CTX_free(ctx)
            throw NetError(.tlsConfiguration, "cannot set TLS 1.2 minimum: \(ErrorText.openSSL())")
        }
        _ = SSL_CTX_set_options(
            ctx,
            cherald_op_no_compression() | cherald_op_no_renegotiation() | cherald_op_ignore_unexpected_eof()
                | cherald_op_no_session_resumption_on_renegotiation()
        )
        let release = releaseIdleBuffers ? UInt32(SSL_MODE_RELEASE_BUFFERS) : 0
        _ = cherald_ctx_set_mode(
            ctx, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | release)
        )
        cherald_ctx_set_read_ahead(ctx, 1)
        guard SSL_CTX_set_cipher_list(ctx, tls12Ciphers) == 1 else {
            SSL_CTX_free(ctx)
            throw NetError(.tlsConfiguration, "cannot set cipher list: \(ErrorText.openSSL())")
        }
        return ctx
    }

    /// Errors leave `ctx` to its owner (the TLSContext created before, whose deinit frees it).
    private static func loadIdentity(_ ctx: OpaquePointer, chain: String, key: String) throws(NetError) {
        try checkReadable(chain, what: "certificate file")
        try checkReadable(key, what: "private key file")
        ERR_clear_error()
        guard SSL_CTX_use_certificate_chain_file(ctx, chain) == 1 else {
            throw NetError(.invalidCertificate, "cannot load certificate chain \(chain): \(ErrorText.openSSL())")
        }
        ERR_clear_error()
        guard SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1 else {
            let reason = ErrorText.openSSL()
            if reason.contains("key values mismatch") {
                throw NetError(.keyMismatch, "private key \(key) does not match certificate \(chain): \(reason)")
            }
            throw NetError(.invalidPrivateKey, "cannot load private key \(key): \(reason)")
        }
        ERR_clear_error()
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw NetError(.keyMismatch, "private key \(key) does not match certificate \(chain): \(ErrorText.openSSL())")
        }
    }

    private static func checkReadable(_ path: String, what: String) throws(NetError) {
        if access(path, R_OK) != 0 {
            throw NetError(.fileNotFound, "\(what) \(path): \(ErrorText.errno(errno))")
        }
    }
}
