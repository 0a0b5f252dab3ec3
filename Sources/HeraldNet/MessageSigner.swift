// MessageSigner: signs SNS envelopes (spec/sns-spec.md §4.5) with an RSA key: SignatureVersion 1
// is SHA1withRSA, 2 is SHA256withRSA, both PKCS#1 v1.5, base64 text. The text to sign comes from
// HeraldCore's `SNSEnvelope.stringToSign`; the certificate (`certificatePEM`) is what the server
// serves at the envelopes' SigningCertURL.
//
// Contract: `init`/`loadOrCreate` run once at start-up (they do file I/O). After that the signer is
// immutable: `sign` may be called from any thread at once; each call has its own EVP_MD_CTX and
// only reads the shared EVP_PKEY (OpenSSL 3 allows concurrent use of a key for signing).
import CHeraldOpenSSL
import HeraldCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a signing key or certificate could not be loaded or created.
public enum MessageSignerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file is missing or cannot be read (path, reason).
    case unreadableFile(String, String)
    /// The file holds no PEM object of the expected kind (path, what was expected, OpenSSL's reason).
    case badPEM(String, String, String)
    /// The private key does not belong to the certificate (key path, certificate path).
    case keyCertificateMismatch(String, String)
    /// Only one of the two files exists in a `loadOrCreate` directory (the one found, the one missing).
    case incompletePair(String, String)
    /// Creating the directory, the key, the certificate or a file failed (what, reason).
    case creationFailed(String, String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "cannot read \(path): \(reason)"
        case let .badPEM(path, what, reason): return "\(path) does not hold a PEM \(what)" + (reason.isEmpty ? "" : ": \(reason)")
        case let .keyCertificateMismatch(key, cert): return "signing key \(key) does not match certificate \(cert)"
        case let .incompletePair(found, missing):
            return "found \(found) but not \(missing): restore it, or delete \(found) to generate a new signing key and certificate"
        case let .creationFailed(what, reason): return "cannot create \(what): \(reason)"
        }
    }
}

public final class MessageSigner: @unchecked Sendable {
    public typealias SignatureVersion = SNSEnvelope.SignatureVersion

    public static let keyFileName = "signing-key.pem"
    public static let certificateFileName = "signing-cert.pem"
    static let commonName = "herald-sns-signing"
    static let validityDays = 3650

    /// Immutable after init; read concurrently by `sign`.
    private let key: OpaquePointer
    /// The certificate file's PEM text (served at SigningCertURL).
    public let certificatePEM: [UInt8]

    /// Loads a PEM private key and the PEM certificate it belongs to.
    public init(keyPEMFile: String, certificatePEMFile: String) throws(MessageSignerError) {
        let keyPEM = try Self.readFile(keyPEMFile)
        let certPEM = try Self.readFile(certificatePEMFile)
        ERR_clear_error()
        guard let key = Self.withBIO(keyPEM, { PEM_read_bio_PrivateKey($0, nil, nil, nil) }) else {
            throw .badPEM(keyPEMFile, "private key", ErrorText.openSSL())
        }
        guard let cert = Self.withBIO(certPEM, { PEM_read_bio_X509($0, nil, nil, nil) }) else {
            EVP_PKEY_free(key)
            throw .badPEM(certificatePEMFile, "certificate", ErrorText.openSSL())
        }
        defer { X509_free(cert) }
        guard X509_check_private_key(cert, key) == 1 else {
            ERR_clear_error()
            EVP_PKEY_free(key)
            throw .keyCertificateMismatch(keyPEMFile, certificatePEMFile)
        }
        self.key = key
        self.certificatePEM = certPEM
    }

    deinit { EVP_PKEY_free(key) }

    /// The signer whose files live in `directory`: loads `signing-key.pem` and `signing-cert.pem`,
    /// or on first start creates the directory (0700), an RSA-2048 key (file mode 0600) and a
    /// self-signed certificate (CN herald-sns-signing, 10 years). One file without the other is an
    /// error rather than a silent new key (subscribers may have pinned the old certificate).
    public static func loadOrCreate(directory: String) throws(MessageSignerError) -> MessageSigner {
        let keyPath = directory + "/" + keyFileName
        let certPath = directory + "/" + certificateFileName
        switch (exists(keyPath), exists(certPath)) {
        case (true, true): break
        case (true, false): throw .incompletePair(keyPath, certPath)
        case (false, true): throw .incompletePair(certPath, keyPath)
        case (false, false): try create(directory: directory, keyPath: keyPath, certPath: certPath)
        }
        return try MessageSigner(keyPEMFile: keyPath, certificatePEMFile: certPath)
    }

    /// Base64 of the PKCS#1 v1.5 signature of `text` (SHA-1 for v1, SHA-256 for v2). Signing with a
    /// loaded RSA key fails only on memory exhaustion; then the result is "" (no valid signature).
    public func sign(_ text: [UInt8], version: SignatureVersion) -> String {
        guard let context = EVP_MD_CTX_new() else { return "" }
        defer { EVP_MD_CTX_free(context) }
        let digest = version == .v1 ? EVP_sha1() : EVP_sha256()
        guard EVP_DigestSignInit(context, nil, digest, nil, key) == 1 else { ERR_clear_error(); return "" }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, text, text.count) == 1, length > 0 else { ERR_clear_error(); return "" }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, text, text.count) == 1 else { ERR_clear_error(); return "" }
        return Base64.encode(signature.prefix(length))
    }

    // MARK: - Creation

    private static func create(directory: String, keyPath: String, certPath: String) throws(MessageSignerError) {
        if !exists(directory), mkdir(directory, 0o700) != 0 {
            throw .creationFailed("directory \(directory)", ErrorText.errno(errno))
        }
        ERR_clear_error()
        guard let key = generateRSAKey() else { throw .creationFailed("RSA key", ErrorText.openSSL()) }
        defer { EVP_PKEY_free(key) }
        guard let cert = selfSignedCertificate(key) else { throw .creationFailed("certificate", ErrorText.openSSL()) }
        defer { X509_free(cert) }
        guard let keyPEM = pem({ PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }),
              let certPEM = pem({ PEM_write_bio_X509($0, cert) })
        else { throw .creationFailed("PEM text", ErrorText.openSSL()) }
        // The key first: a crash in between leaves a key without certificate, which loadOrCreate reports.
        try writeNewFile(keyPath, keyPEM, mode: 0o600)
        try writeNewFile(certPath, certPEM, mode: 0o644)
    }

    private static func generateRSAKey() -> OpaquePointer? {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(context, 2048) == 1 else { return nil }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen(context, &key) == 1 else { return nil }
        return key
    }

    private static func selfSignedCertificate(_ key: OpaquePointer) -> OpaquePointer? {
        guard let cert = X509_new() else { return nil }
        var serial = [UInt8](repeating: 0, count: 16)
        let built = RAND_bytes(&serial, Int32(serial.count)) == 1
            && X509_set_version(cert, 2) == 1
            && setSerial(cert, serial)
            && X509_gmtime_adj(X509_getm_notBefore(cert), 0) != nil
            && X509_gmtime_adj(X509_getm_notAfter(cert), Int(validityDays) * 86_400) != nil
            && X509_set_pubkey(cert, key) == 1
            && setNames(cert)
            && X509_sign(cert, key, EVP_sha256()) > 0
        guard built else { X509_free(cert); return nil }
        return cert
    }

    private static func setSerial(_ cert: OpaquePointer, _ bytes: [UInt8]) -> Bool {
        var positive = bytes
        positive[0] &= 0x7F  // a positive serial number (RFC 5280 §4.1.2.2)
        guard let number = BN_bin2bn(positive, Int32(positive.count), nil) else { return false }
        defer { BN_free(number) }
        return BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert)) != nil
    }

    private static func setNames(_ cert: OpaquePointer) -> Bool {
        guard let name = X509_get_subject_name(cert) else { return false }
        let cn = Array(commonName.utf8)
        guard X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, Int32(cn.count), -1, 0) == 1 else { return false }
        return X509_set_issuer_name(cert, name) == 1
    }

    // MARK: - Files and BIOs

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    private static func readFile(_ path: String) throws(MessageSignerError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .unreadableFile(path, ErrorText.errno(errno)) }
        defer { close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadableFile(path, ErrorText.errno(errno))
            }
            if count == 0 { break }
            contents.append(contentsOf: chunk.prefix(count))
            // PEM keys and certificates are a few KiB; refuse to slurp an unrelated huge file.
            if contents.count > 1 << 20 { throw .unreadableFile(path, "larger than 1 MiB, not a PEM key or certificate") }
        }
        return contents
    }

    /// Creates `path` (refusing to overwrite) with `mode`, writes `bytes`, and syncs it.
    private static func writeNewFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(MessageSignerError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw .creationFailed(path, ErrorText.errno(errno)) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .creationFailed(path, ErrorText.errno(errno))
            }
            offset += written
        }
        guard fsync(fd) == 0 else { throw .creationFailed(path, ErrorText.errno(errno)) }
    }

    /// Runs `read` on a read-only memory BIO over `bytes`.
    private static func withBIO<T>(_ bytes: [UInt8], _ read: (OpaquePointer) -> T?) -> T? {
        bytes.withUnsafeBytes { buffer -> T? in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
    }

    /// The text `write` puts into a memory BIO, or nil when it fails.
    private static func pem(_ write: (OpaquePointer) -> Int32) -> [UInt8]? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { return nil }
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = BIO_read(bio, &chunk, Int32(chunk.count))
            if count <= 0 { break }
            output.append(contentsOf: chunk.prefix(Int(count)))
        }
        return output
    }
}
