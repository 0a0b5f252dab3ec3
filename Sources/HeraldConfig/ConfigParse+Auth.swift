import Yams

/// `auth:` — anonymous access and users with their credentials and permissions.
extension ConfigParse {
    func auth(_ node: Node, key: Node?) -> HeraldConfig.Auth {
        var auth = HeraldConfig.Auth()
        guard let map = reader.mapping(node, path: "auth", keys: ["anonymous", "users"]) else { return auth }
        if let anonymous = map["anonymous"] {
            (auth.allowAnonymous, auth.anonymousPermissions) = self.anonymous(anonymous, path: map.child("anonymous"))
        }
        if let usersNode = map["users"] {
            auth.users = users(usersNode)
        }
        if !auth.allowAnonymous, auth.users.isEmpty, map["users"] == nil {
            reader.report("auth: no users and anonymous access is off: nobody could connect", at: key ?? node)
        }
        return auth
    }

    /// `anonymous: true|false` or `anonymous: {publish: […], subscribe: […]}` (allowed, with
    /// exactly those rights).
    func anonymous(_ node: Node, path: String) -> (Bool, Permissions) {
        if case .scalar = node {
            let allowed = reader.bool(node, path: path) ?? false
            return (allowed, allowed ? .all : .none)
        }
        guard let map = reader.mapping(node, path: path, keys: ["publish", "subscribe"]) else { return (false, .none) }
        return (true, permissions(map))
    }

    func permissions(_ map: ConfigMapping) -> Permissions {
        Permissions(
            publish: map["publish"].map { patterns($0, path: map.child("publish")) } ?? [],
            subscribe: map["subscribe"].map { patterns($0, path: map.child("subscribe")) } ?? []
        )
    }

    func patterns(_ node: Node, path: String) -> [TopicPattern] {
        guard let items = reader.stringList(node, path: path) else { return [] }
        var result: [TopicPattern] = []
        for item in items {
            if let pattern = TopicPattern(item.text) {
                result.append(pattern)
            } else {
                reader.report("\(path): \(TopicPattern.problem(in: item.text) ?? "invalid topic pattern")", at: item.node)
            }
        }
        return result
    }

    func users(_ node: Node) -> [HeraldConfig.User] {
        guard let items = reader.sequence(node, path: "auth.users") else { return [] }
        let keys = ["name", "token", "tokenEnv", "certificateCN", "publish", "subscribe", "accessKeys"]
        var result: [HeraldConfig.User] = []
        var names: [(name: String, node: Node)] = []
        var tokens: [(name: String, node: Node)] = []
        var commonNames: [(name: String, node: Node)] = []
        var keyIDs: [(name: String, node: Node)] = []
        for (index, item) in items.enumerated() {
            let path = "auth.users[\(index)]"
            guard let map = reader.mapping(item, path: path, keys: keys) else { continue }
            let nameNode = map.required("name", reader)
            let name = nameNode.flatMap { reader.string($0, path: map.child("name")) }
            if let name, let nameNode { names.append((name, nameNode)) }
            let label = name.map { "user '\($0)'" } ?? path

            var token: String?
            if let tokenNode = map["token"] {
                token = reader.string(tokenNode, path: map.child("token"))
                if token?.isEmpty == true { reader.report("\(map.child("token")): the token is empty", at: tokenNode) }
            }
            var variable: String?
            if let envNode = map["tokenEnv"] {
                variable = reader.string(envNode, path: map.child("tokenEnv"))
                if map["token"] != nil {
                    reader.report("\(label): give either token or tokenEnv, not both", at: envNode)
                } else if let variable {
                    if let value = environment[variable], !value.isEmpty {
                        token = value
                    } else {
                        reader.report("\(map.child("tokenEnv")): environment variable \(variable) is not set or empty", at: envNode)
                    }
                }
            }
            if let token, !token.isEmpty, let tokenNode = map["token"] ?? map["tokenEnv"] { tokens.append((token, tokenNode)) }

            var commonName: String?
            if let cnNode = map["certificateCN"] {
                commonName = reader.string(cnNode, path: map.child("certificateCN"))
                if let commonName { commonNames.append((commonName, cnNode)) }
                if !anyListenerRequestsClientCertificates {
                    reader.report(
                        "\(map.child("certificateCN")): no listener asks for client certificates (tls.clientAuth: optional or required), so \(label) could never sign in with one",
                        at: cnNode)
                }
            }
            let accessKeys = map["accessKeys"].map { self.accessKeys($0, path: map.child("accessKeys"), ids: &keyIDs) } ?? []
            if map["token"] == nil, map["tokenEnv"] == nil, map["certificateCN"] == nil, map["accessKeys"] == nil {
                reader.report("\(label) has no credentials: give token, tokenEnv, certificateCN or accessKeys", at: item)
            }
            if let name {
                var user = HeraldConfig.User(
                    name: name, token: token, tokenEnvironmentVariable: variable, certificateCommonName: commonName,
                    permissions: permissions(map))
                user.accessKeys = accessKeys
                result.append(user)
            }
        }
        reportDuplicates(keyIDs, what: "access key id")
        reportDuplicates(names, what: "user name")
        reportDuplicateTokens(tokens)
        reportDuplicates(commonNames, what: "certificateCN")
        return result
    }

    /// `accessKeys: [{id: AKIA…, secret: … | secretEnv: VAR}]` (an id is 16–128 letters and digits,
    /// as AWS's; a secret is never printed).
    private func accessKeys(_ node: Node, path: String, ids: inout [(name: String, node: Node)]) -> [HeraldConfig.AccessKey] {
        guard let items = reader.sequence(node, path: path) else { return [] }
        var keys: [HeraldConfig.AccessKey] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let map = reader.mapping(item, path: itemPath, keys: ["id", "secret", "secretEnv"]) else { continue }
            var id: String?
            if let idNode = map.required("id", reader), let text = reader.string(idNode, path: map.child("id")) {
                if (16...128).contains(text.count), text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                    id = text
                    ids.append((text, idNode))
                } else {
                    reader.report("\(map.child("id")): an access key id has 16 to 128 letters and digits (like AKIAIOSFODNN7EXAMPLE)", at: idNode)
                }
            }
            var secret: String?
            var variable: String?
            switch (map["secret"], map["secretEnv"]) {
            case (.some, .some(let envNode)):
                reader.report("\(itemPath): give either secret or secretEnv, not both", at: envNode)
            case (.some(let secretNode), nil):
                secret = reader.string(secretNode, path: map.child("secret"))
                if secret?.isEmpty == true { reader.report("\(map.child("secret")): the secret is empty", at: secretNode) }
            case (nil, .some(let envNode)):
                variable = reader.string(envNode, path: map.child("secretEnv"))
                if let variable {
                    if let value = environment[variable], !value.isEmpty {
                        secret = value
                    } else {
                        reader.report("\(map.child("secretEnv")): environment variable \(variable) is not set or empty", at: envNode)
                    }
                }
            case (nil, nil):
                reader.report("\(itemPath): missing required key 'secret' (or 'secretEnv')", at: item)
            }
            if let id, let secret, !secret.isEmpty {
                keys.append(HeraldConfig.AccessKey(id: id, secret: secret, secretEnvironmentVariable: variable))
            }
        }
        return keys
    }

    /// Like `reportDuplicates`, without ever printing the secret.
    private func reportDuplicateTokens(_ tokens: [(name: String, node: Node)]) {
        var firstLine: [String: Int?] = [:]
        for token in tokens {
            if let line = firstLine[token.name] {
                reader.report("duplicate token: the same token is already used by the user at line \(line.map(String.init) ?? "?")", at: token.node)
            } else {
                firstLine[token.name] = token.node.mark?.line
            }
        }
    }
}
