/// What a reload (SIGHUP) can and cannot apply to a running broker. The server loads the new file
/// with `ConfigLoader`; on `ConfigError` it keeps the running config and logs the problems. On
/// success it swaps in the new value: policies, subscriptions, topics, users, permissions and
/// limits apply to the next message or request; the changes listed here need a restart instead.
/// Queues, durability and signing are plain values here: the server creates queues that a reload
/// adds and decides what it can apply live (this module only parses).
extension HeraldConfig {
    /// Human-readable changes from `old` that a live reload cannot apply: listeners added,
    /// removed, or with a different address (sockets stay as they are until restart).
    public func changesNeedingRestart(from old: HeraldConfig) -> [String] {
        var changes: [String] = []
        let oldAddresses = old.listeners.map(\.address.description)
        let newAddresses = listeners.map(\.address.description)
        for address in newAddresses where !oldAddresses.contains(address) {
            changes.append("listener \(address) added: restart to open it")
        }
        for address in oldAddresses where !newAddresses.contains(address) {
            changes.append("listener \(address) removed: restart to close it")
        }
        for listener in listeners {
            if let previous = old.listeners.first(where: { $0.address == listener.address }), previous.tls.clientAuth != listener.tls.clientAuth {
                changes.append("listener \(listener.address) clientAuth changed: restart to apply")
            }
        }
        if http != old.http {
            // The HTTP listener is opened once, at start; queue URLs already handed out name its publicURL.
            changes.append("http listener changed: restart to apply")
        }
        if admin != old.admin {
            changes.append("admin listener changed: restart to apply")
        }
        if aws != old.aws {
            // ARNs and queue URLs already handed out name the old region and account.
            changes.append("aws region/account changed: restart to apply")
        }
        if httpDelivery != old.httpDelivery {
            // One HTTP client (trust store, pool) serves every HTTP/S subscription; it is made at start.
            changes.append("httpDelivery changed: restart to apply")
        }
        if dataDir != old.dataDir {
            // Queue journals live there: moving them under a running broker would lose or fork state.
            changes.append("dataDir changed from \(old.dataDir ?? "the default") to \(dataDir ?? "the default"): restart to apply")
        }
        return changes
    }
}
