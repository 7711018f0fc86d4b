import MOMCore

/// Where MOM's facts live under the configured root (docs/zookeeper.md):
///
///     <root>/nodes/<node-id>     ephemeral, JSON {"http","raft"}
///     <root>/groups/<group-id>   persistent, JSON {"replicas":[…],"learners":[…],"epoch":N}
///
/// IDs are decimal. Nothing else is ever written under the root.
struct CoordinationLayout: Sendable, Hashable {
    /// The root, normalized: starts with "/", no trailing "/", not "/" itself.
    let root: String

    /// Validates and normalizes `root` (a trailing "/" is dropped).
    init(root: String) throws(CoordinationError) {
        var normalized = root
        while normalized.count > 1 && normalized.hasSuffix("/") { normalized.removeLast() }
        guard normalized.hasPrefix("/"), normalized != "/" else {
            throw .invalidArgument(reason: "root '\(root)' must be an absolute path below '/', like /mom")
        }
        let components = normalized.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for component in components where component.isEmpty || component == "." || component == ".." {
            throw .invalidArgument(reason: "root '\(root)' has an empty or relative component")
        }
        // ZooKeeper keeps its own data under /zookeeper.
        guard components.first != "zookeeper" else {
            throw .invalidArgument(reason: "root '\(root)' is inside ZooKeeper's reserved /zookeeper")
        }
        guard normalized.utf8.count <= 512 else {
            throw .invalidArgument(reason: "root '\(root)' is longer than 512 bytes")
        }
        self.root = normalized
    }

    var nodesPath: String { root + "/nodes" }
    var groupsPath: String { root + "/groups" }

    func path(of node: NodeID) -> String { nodesPath + "/" + String(node.rawValue) }
    func path(of group: GroupID) -> String { groupsPath + "/" + String(group.rawValue) }

    /// Every persistent znode the layout needs, parents first: the root's ancestors, the root,
    /// `nodes` and `groups`.
    var persistentPaths: [String] {
        var paths: [String] = []
        var current = ""
        for component in root.dropFirst().split(separator: "/") {
            current += "/" + component
            paths.append(current)
        }
        return paths + [nodesPath, groupsPath]
    }

    /// Parses a child name of `nodes` or `groups`: a decimal ID without sign or leading zeros,
    /// so every ID has exactly one name.
    static func identifier(fromChild name: String) -> UInt64? {
        guard let value = UInt64(name), String(value) == name else { return nil }
        return value
    }

    /// What a watch event on `path` is about.
    enum Subject: Hashable, Sendable {
        case nodes
        case group(GroupID)
    }

    func subject(ofPath path: String) -> Subject? {
        if path == nodesPath || path.hasPrefix(nodesPath + "/") { return .nodes }
        if path.hasPrefix(groupsPath + "/") {
            let name = String(path.dropFirst(groupsPath.count + 1))
            return Self.identifier(fromChild: name).map { .group(GroupID($0)) }
        }
        return nil
    }
}
