import Yams

/// `admin: {listen: HOST:PORT, allowRemote: BOOL}`: the metrics and health listener.
extension ConfigParse {
    func admin(_ node: Node) -> HeraldConfig.Admin? {
        guard let map = reader.mapping(node, path: "admin", keys: ["listen", "allowRemote"]) else { return nil }
        let allowRemote = map["allowRemote"].flatMap { reader.bool($0, path: map.child("allowRemote")) } ?? false
        guard let listenNode = map.required("listen", reader), let text = reader.string(listenNode, path: map.child("listen")) else { return nil }
        switch ListenAddress.parse(text) {
        case .success(let address):
            guard allowRemote || HeraldConfig.Admin.isLoopback(address.host) else {
                reader.report(
                    "\(map.child("listen")): '\(text)' is not a loopback address; the admin listener serves metrics without authentication, "
                        + "so listening beyond this machine needs 'allowRemote: true' beside it",
                    at: listenNode)
                return nil
            }
            return HeraldConfig.Admin(listen: address, allowRemote: allowRemote)
        case .failure(let problem):
            reader.report("\(map.child("listen")): \(problem)", at: listenNode)
            return nil
        }
    }
}
