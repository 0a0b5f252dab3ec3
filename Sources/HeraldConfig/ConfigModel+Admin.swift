/// `admin:`: the operator's listener — Prometheus metrics at `/metrics`, `/healthz`, `/readyz` —
/// plain HTTP. Optional in a file (absent: no admin listener); the embedded defaults turn it on
/// at 127.0.0.1:9433. An address other than loopback must be asked for with `allowRemote: true`:
/// the metrics name every topic and subscription, and nothing authenticates a scrape.
extension HeraldConfig {
    public struct Admin: Sendable, Hashable {
        /// Where to listen (port 0: a free port, read back after start).
        public var listen: ListenAddress
        /// Set when `listen` is not a loopback address (validated by the loader).
        public var allowRemote: Bool

        /// The embedded defaults' admin address.
        public static let defaultListenAddress = ListenAddress(host: "127.0.0.1", port: 9433)

        public init(listen: ListenAddress = defaultListenAddress, allowRemote: Bool = false) {
            self.listen = listen
            self.allowRemote = allowRemote
        }

        /// Whether `host` only reaches this machine (`localhost`, `::1`, `127.0.0.0/8`).
        public static func isLoopback(_ host: String) -> Bool {
            host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }
    }
}
