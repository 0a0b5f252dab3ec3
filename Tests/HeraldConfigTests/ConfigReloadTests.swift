import Testing
@testable import HeraldConfig

@Suite struct ConfigReloadTests {
    @Test func listenerChangesNeedARestart() throws {
        let old = HeraldConfig.defaults(certsDirectory: "/certs")
        #expect(old.changesNeedingRestart(from: old).isEmpty)

        var policiesOnly = old
        policiesOnly.subscriptions = [HeraldConfig.Subscription(name: "s", topic: "t")]
        policiesOnly.auth.allowAnonymous = false
        #expect(policiesOnly.changesNeedingRestart(from: old).isEmpty)

        var moved = old
        moved.listeners[0].address = ListenAddress(host: "0.0.0.0", port: 4433)
        #expect(moved.changesNeedingRestart(from: old) == [
            "listener 0.0.0.0:4433 added: restart to open it", "listener 127.0.0.1:4433 removed: restart to close it",
        ])

        var mutual = old
        mutual.listeners[0].tls.clientAuth = .required
        #expect(mutual.changesNeedingRestart(from: old) == ["listener 127.0.0.1:4433 clientAuth changed: restart to apply"])

        // Queues and durability are values the server applies; only moving the data folder needs a restart.
        var queues = old
        queues.queues = [HeraldConfig.Queue(name: "jobs")]
        queues.durability.fsync = .never
        #expect(queues.changesNeedingRestart(from: old).isEmpty)
        var relocated = old
        relocated.dataDir = "/srv/herald"
        #expect(relocated.changesNeedingRestart(from: old) == ["dataDir changed from the default to /srv/herald: restart to apply"])
    }

    @Test func aBadFileLeavesTheRunningConfigAlone() throws {
        // The reload contract: load either returns a whole new config or throws; nothing partial.
        let folder = try ConfigTempFolder()
        try folder.writeCertificates()
        let file = try folder.write("herald.yaml", minimalConfig + "topics: [orders]\n")
        let running = try ConfigLoader.load(file: file)
        try folder.write("herald.yaml", minimalConfig + "topics: [orders, \"bad topic\"]\n")
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: file) }
        #expect(running.topics.map(\.name) == ["orders"])
        try folder.write("herald.yaml", minimalConfig + "topics: [orders, payments]\n")
        #expect(try ConfigLoader.load(file: file).topics.map(\.name) == ["orders", "payments"])
    }
}
