import Foundation
import HeraldTestSupport
@testable import HeraldNet
import Testing

@Suite(.serialized) struct NetTests {}

extension NetTests {
    @Suite struct TLSContextConfiguration {
        @Test func loadsDevCertificates() throws {
            let server = try TestTLS.server(clientCA: TestPaths.ca, policy: .required)
            #expect(server.isServer)
            let client = try TestTLS.client(withCertificate: true)
            #expect(!client.isServer)
        }

        @Test func missingCertificateFileIsReported() {
            #expect {
                try TLSContext.server(certificateChainFile: "/nonexistent/cert.pem", privateKeyFile: TestPaths.serverKey)
            } throws: { ($0 as? NetError)?.code == .fileNotFound && "\($0)".contains("/nonexistent/cert.pem") }
            #expect {
                try TLSContext.client(caFile: "/nonexistent/ca.pem")
            } throws: { ($0 as? NetError)?.code == .fileNotFound }
        }

        @Test func garbageFilesAreInvalid() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-net-\(UUID())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let junk = dir.appendingPathComponent("junk.pem").path
            try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: junk))
            #expect {
                try TLSContext.server(certificateChainFile: junk, privateKeyFile: TestPaths.serverKey)
            } throws: { error in
                guard let error = error as? NetError else { return false }
                // OpenSSL's own reason is carried in the message.
                return error.code == .invalidCertificate && error.message.contains("PEM")
            }
            #expect {
                try TLSContext.server(certificateChainFile: TestPaths.serverCert, privateKeyFile: junk)
            } throws: { ($0 as? NetError)?.code == .invalidPrivateKey }
            #expect {
                try TLSContext.client(caFile: junk)
            } throws: { ($0 as? NetError)?.code == .invalidCertificate }
        }

        @Test func keyMismatchIsReported() {
            #expect {
                try TLSContext.server(certificateChainFile: TestPaths.serverCert, privateKeyFile: TestPaths.clientKey)
            } throws: { error in
                guard let error = error as? NetError else { return false }
                return error.code == .keyMismatch && error.message.contains("mismatch")
            }
        }

        @Test func clientCertificatePolicyNeedsACA() {
            #expect {
                try TLSContext.server(certificateChainFile: TestPaths.serverCert, privateKeyFile: TestPaths.serverKey,
                                      clientCertificates: .required)
            } throws: { ($0 as? NetError)?.code == .tlsConfiguration }
        }

        @Test func listenerRejectsClientContextAndBadAddress() throws {
            let client = try TestTLS.client()
            #expect { try Listener(port: 0, tls: client) { _ in nil } } throws: { ($0 as? NetError)?.code == .tlsConfiguration }
            #expect { try Listener(host: "256.1.1.1.1", port: 0, tls: nil) { _ in nil } } throws: { ($0 as? NetError)?.code == .addressResolution }
            #expect { try Listener(port: 70_000, tls: nil) { _ in nil } } throws: { ($0 as? NetError)?.code == .addressResolution }
        }
    }
}
