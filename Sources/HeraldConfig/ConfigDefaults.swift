import Foundation

/// The configuration `herald serve` runs with when given no file: one listener on
/// 127.0.0.1:4433 with the development certificates, the AWS-compatible HTTP API on
/// 127.0.0.1:4566, metrics and health on 127.0.0.1:9433, anonymous clients allowed to do anything, topics created on first use, HTTPS
/// endpoints trusted when the system store or the dev CA vouches for them. For
/// trying Herald out on one machine, never for production.
extension HeraldConfig {
    /// File names expected in the dev certs folder (`certs/` at the repository root).
    public enum DevCertificates {
        public static let folderName = "certs"
        public static let certificate = "dev-server.pem"
        public static let privateKey = "dev-server-key.pem"
        public static let authority = "dev-ca.pem"
    }

    public static let defaultListenAddress = ListenAddress(host: "127.0.0.1", port: 4433)

    /// The embedded default using the certificates in `certsDirectory`, listening on `listen`
    /// (`herald serve --listen HOST:PORT`). `http` is nil here (tests and benchmarks build on this
    /// and must not all bind port 4566); the no-argument `defaults()` below turns it on.
    public static func defaults(certsDirectory: String, listen: ListenAddress = defaultListenAddress, http: HTTPAPI? = nil) -> HeraldConfig {
        let tls = TLS(
            certificateFile: ConfigFiles.absolute(ConfigFiles.join(certsDirectory, DevCertificates.certificate)),
            privateKeyFile: ConfigFiles.absolute(ConfigFiles.join(certsDirectory, DevCertificates.privateKey)))
        var config = HeraldConfig(
            listeners: [Listener(name: "default", address: listen, tls: tls)],
            auth: Auth(allowAnonymous: true, anonymousPermissions: .all),
            autoCreateTopics: true)
        config.http = http
        // HTTP/S subscriptions may point at local endpoints serving the dev certificate too.
        let authority = ConfigFiles.absolute(ConfigFiles.join(certsDirectory, DevCertificates.authority))
        if FileManager.default.isReadableFile(atPath: authority) { config.httpDelivery.caFile = authority }
        return config
    }

    /// The embedded default with the dev certificates found by `locateDevCertificates`, and the
    /// HTTP API on 127.0.0.1:4566 and the admin listener (metrics, health) on 127.0.0.1:9433 (what
    /// `make serve` runs).
    public static func defaults(
        listen: ListenAddress = defaultListenAddress,
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        executablePath: String? = CommandLine.arguments.first
    ) throws(ConfigError) -> HeraldConfig {
        var config = defaults(
            certsDirectory: try locateDevCertificates(currentDirectory: currentDirectory, executablePath: executablePath), listen: listen,
            http: HTTPAPI())
        config.admin = Admin()
        return config
    }

    /// The `certs/` folder holding both dev certificate files: looked for in the current directory,
    /// then beside the executable and in each folder above it (so `.build/debug/herald` finds the
    /// repository's `certs/`). Throws a problem naming every place searched when none has them.
    public static func locateDevCertificates(currentDirectory: String, executablePath: String?) throws(ConfigError) -> String {
        var candidates = [ConfigFiles.join(currentDirectory, DevCertificates.folderName)]
        if let executablePath, !executablePath.isEmpty {
            var folder = URL(fileURLWithPath: executablePath, relativeTo: URL(fileURLWithPath: currentDirectory, isDirectory: true))
                .standardizedFileURL.deletingLastPathComponent()
            for _ in 0..<6 {
                candidates.append(folder.appendingPathComponent(DevCertificates.folderName).path)
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        for candidate in candidates {
            let files = [DevCertificates.certificate, DevCertificates.privateKey].map { ConfigFiles.join(candidate, $0) }
            if files.allSatisfy({ ConfigFiles.problemReading($0) == nil }) { return ConfigFiles.absolute(candidate) }
        }
        var seen = Set<String>()
        let searched = candidates.map(ConfigFiles.absolute).filter { seen.insert($0).inserted }
        throw ConfigError(
            "no config file given and no development certificates found: looked for \(DevCertificates.certificate) and \(DevCertificates.privateKey) in "
                + searched.joined(separator: ", ")
                + ". Run herald from the repository root (which has certs/) or pass --config FILE.")
    }
}
