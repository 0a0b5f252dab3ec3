import Foundation
import Testing
@testable import HeraldConfig

@Suite struct ConfigDefaultsTests {
    @Test func embeddedDefault() {
        let config = HeraldConfig.defaults(certsDirectory: "/opt/herald/certs")
        #expect(config.listeners.count == 1)
        #expect(config.listeners.first?.address == ListenAddress(host: "127.0.0.1", port: 4433))
        #expect(config.listeners.first?.tls.certificateFile == "/opt/herald/certs/dev-server.pem")
        #expect(config.listeners.first?.tls.privateKeyFile == "/opt/herald/certs/dev-server-key.pem")
        #expect(config.listeners.first?.tls.clientAuth == HeraldConfig.ClientAuth.none)
        #expect(config.auth.allowAnonymous)
        #expect(config.auth.anonymousPermissions == .all)
        #expect(config.autoCreateTopics)
        #expect(config.limits == HeraldConfig.Limits())
        #expect(config.sourceFile == nil)
        #expect(config.summary == "ok: 1 listener, 0 topics, 0 queues, 0 subscriptions, 0 users")
        let moved = HeraldConfig.defaults(certsDirectory: "/c", listen: ListenAddress(host: "0.0.0.0", port: 9000))
        #expect(moved.listeners.map(\.address) == [ListenAddress(host: "0.0.0.0", port: 9000)])
    }

    @Test func findsCertsInTheCurrentDirectoryFirst() throws {
        let folder = try ConfigTempFolder()
        try folder.writeCertificates(in: "certs")
        try folder.writeCertificates(in: "elsewhere/certs")
        let found = try HeraldConfig.locateDevCertificates(currentDirectory: folder.path, executablePath: folder.path + "/elsewhere/bin/herald")
        #expect(found == folder.path + "/certs")
    }

    @Test func findsCertsAboveTheExecutable() throws {
        let folder = try ConfigTempFolder()
        try folder.writeCertificates(in: "repo/certs")
        try folder.write("repo/.build/x86_64-unknown-linux-gnu/debug/herald", "")
        try folder.write("cwd/readme", "")
        let found = try HeraldConfig.locateDevCertificates(
            currentDirectory: folder.path + "/cwd", executablePath: folder.path + "/repo/.build/x86_64-unknown-linux-gnu/debug/herald")
        #expect(found == folder.path + "/repo/certs")
        let config = try HeraldConfig.defaults(currentDirectory: folder.path + "/cwd", executablePath: "../repo/.build/x86_64-unknown-linux-gnu/debug/herald")
        #expect(config.listeners.first?.tls.certificateFile == folder.path + "/repo/certs/dev-server.pem")
    }

    @Test func missingCertsGiveAClearError() throws {
        let folder = try ConfigTempFolder()
        try folder.write("certs/dev-server.pem", "only the certificate, no key")
        do {
            _ = try HeraldConfig.locateDevCertificates(currentDirectory: folder.path, executablePath: nil)
            Issue.record("found certificates that are not there")
        } catch {
            let message = error.description
            #expect(message.contains("no development certificates found"))
            #expect(message.contains(folder.path + "/certs"))
            #expect(message.contains("--config FILE"))
        }
    }
}
