import CHeraldOpenSSL
import Foundation
import HeraldCore
@testable import HeraldNet
import Testing

@Suite struct MessageSignerTests {
    func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("herald-signer-\(UUID())").path
    }

    /// Verifies `signatureBase64` over `text` with the public key of `certificatePEM`, as an SNS
    /// subscriber would (EVP_DigestVerify, PKCS#1 v1.5).
    func verify(_ text: [UInt8], signatureBase64: String, certificatePEM: [UInt8], version: SNSEnvelope.SignatureVersion) -> Bool {
        guard let signature = Data(base64Encoded: signatureBase64).map(Array.init), !signature.isEmpty else { return false }
        let cert: OpaquePointer? = certificatePEM.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let cert, let key = X509_get_pubkey(cert) else { return false }
        defer { X509_free(cert); EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, version == .v1 ? EVP_sha1() : EVP_sha256(), nil, key) == 1 else { return false }
        let result = EVP_DigestVerify(context, signature, signature.count, text, text.count)
        ERR_clear_error()
        return result == 1
    }

    @Test(arguments: SNSEnvelope.SignatureVersion.allCases)
    func signaturesVerifyWithTheCertificateAndTamperingFails(version: SNSEnvelope.SignatureVersion) throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let signer = try MessageSigner.loadOrCreate(directory: directory)
        let note = SNSEnvelope.Notification(
            messageID: "m1", topicArn: "arn:t", subject: "s", message: Array("héllo\n".utf8),
            timestampMilliseconds: 1_335_920_046_655, unsubscribeURL: "u")
        let text = SNSEnvelope.stringToSign(note)
        let signature = signer.sign(text, version: version)
        #expect(verify(text, signatureBase64: signature, certificatePEM: signer.certificatePEM, version: version))
        var tampered = text
        tampered[tampered.count - 2] ^= 0x01
        #expect(!verify(tampered, signatureBase64: signature, certificatePEM: signer.certificatePEM, version: version))
        // The other digest does not verify: the version really selects the hash.
        let other: SNSEnvelope.SignatureVersion = version == .v1 ? .v2 : .v1
        #expect(!verify(text, signatureBase64: signature, certificatePEM: signer.certificatePEM, version: other))
        // RSA-2048: 256 signature bytes, 344 base64 characters.
        #expect(signature.count == 344)
    }

    @Test func loadOrCreateCreatesOnceThenLoadsTheSameFiles() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try MessageSigner.loadOrCreate(directory: directory)
        let second = try MessageSigner.loadOrCreate(directory: directory)
        #expect(first.certificatePEM == second.certificatePEM)
        let pem = String(decoding: first.certificatePEM, as: UTF8.self)
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        let keyPath = directory + "/" + MessageSigner.keyFileName
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        // A signature by the reloaded signer verifies against the first certificate.
        let text = Array("Message\nx\n".utf8)
        #expect(verify(text, signatureBase64: second.sign(text, version: .v2), certificatePEM: first.certificatePEM, version: .v2))
    }

    @Test func certificateHasTheSigningCommonNameAndTenYears() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let signer = try MessageSigner.loadOrCreate(directory: directory)
        let cert: OpaquePointer? = signer.certificatePEM.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        let certificate = try #require(cert)
        defer { X509_free(certificate) }
        var buffer = [CChar](repeating: 0, count: 256)
        let length = cherald_name_rfc2253(X509_get_subject_name(certificate), &buffer, Int32(buffer.count))
        #expect(length > 0)
        #expect(String(decoding: buffer.prefix(Int(max(length, 0))).map { UInt8(bitPattern: $0) }, as: UTF8.self) == "CN=herald-sns-signing")
        var days: Int32 = 0, seconds: Int32 = 0
        #expect(ASN1_TIME_diff(&days, &seconds, X509_getm_notBefore(certificate), X509_getm_notAfter(certificate)) == 1)
        #expect(days == 3650)
    }

    @Test func corruptPEMGivesAClearError() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try MessageSigner.loadOrCreate(directory: directory)
        let keyPath = directory + "/" + MessageSigner.keyFileName
        try Data("-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n".utf8).write(to: URL(fileURLWithPath: keyPath))
        #expect {
            _ = try MessageSigner.loadOrCreate(directory: directory)
        } throws: { error in
            guard case .badPEM(let path, "private key", _) = error as? MessageSignerError else { return false }
            return path == keyPath && "\(error)".contains("does not hold a PEM private key")
        }
    }

    @Test func missingFileAndHalfPairAndMismatchAreReported() throws {
        let directory = temporaryDirectory()
        let otherDirectory = temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: otherDirectory)
        }
        #expect(throws: MessageSignerError.self) {
            _ = try MessageSigner(keyPEMFile: directory + "/none.pem", certificatePEMFile: directory + "/none2.pem")
        }
        _ = try MessageSigner.loadOrCreate(directory: directory)
        _ = try MessageSigner.loadOrCreate(directory: otherDirectory)
        #expect(throws: MessageSignerError.keyCertificateMismatch(directory + "/signing-key.pem", otherDirectory + "/signing-cert.pem")) {
            _ = try MessageSigner(keyPEMFile: directory + "/signing-key.pem", certificatePEMFile: otherDirectory + "/signing-cert.pem")
        }
        try FileManager.default.removeItem(atPath: directory + "/signing-cert.pem")
        #expect(throws: MessageSignerError.incompletePair(directory + "/signing-key.pem", directory + "/signing-cert.pem")) {
            _ = try MessageSigner.loadOrCreate(directory: directory)
        }
    }
}
