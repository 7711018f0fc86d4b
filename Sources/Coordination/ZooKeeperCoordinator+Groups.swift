import MOMCore

/// Group membership: `groups/<id>` znodes, changed only by compare-and-set on the znode version.
extension ZooKeeperCoordinator {
    public func groups() async throws(CoordinationError) -> [GroupID] {
        try checkOpen()
        let cached = state.withLock { $0.groupList }
        if session.connection != .connected, let cached { return cached }
        let listing = await session.children(layout.groupsPath, watch: false)
        if listing.status == .noNode { return [] }
        guard listing.status.isOK else {
            if let cached, case .unavailable = failure(listing.status, path: layout.groupsPath) { return cached }
            throw failure(listing.status, path: layout.groupsPath)
        }
        let groups = listing.names.prefix(configuration.limits.coordinationChildrenMax)
            .compactMap(CoordinationLayout.identifier(fromChild:)).map(GroupID.init).sorted()
        state.withLock { $0.groupList = groups }
        return groups
    }

    public func membership(of group: GroupID) async throws(CoordinationError) -> VersionedMembership {
        try checkOpen()
        let cached = state.withLock { $0.groups[group] }
        if session.connection != .connected, let cached {
            guard let cached else { throw .notFound(.group(group)) }
            return cached
        }
        switch await readMembership(of: group, watch: false) {
        case .success(let read):
            state.withLock { $0.remember(read, of: group, fromWatch: false) }
            guard let read else { throw .notFound(.group(group)) }
            return read
        case .failure(.unavailable(let reason)):
            guard let cached else { throw .unavailable(reason: reason) }
            guard let cached else { throw .notFound(.group(group)) }
            return cached
        case .failure(let error):
            throw error
        }
    }

    /// Reads `groups/<id>`: nil when absent. With `watch`, the read also arms a watch; for an
    /// absent group that takes an exists-watch, since a data watch is not set on a missing znode.
    func readMembership(of group: GroupID, watch: Bool) async -> Result<VersionedMembership?, CoordinationError> {
        let path = layout.path(of: group)
        // Bounded: a group created between the read and the exists-watch is read once more.
        for _ in 0..<3 {
            let reply = await session.get(path, watch: watch)
            if reply.status.isOK, let stat = reply.stat {
                do {
                    let membership = try CoordinationCodec.decodeMembership(
                        reply.data, path: path, limits: configuration.limits)
                    return .success(VersionedMembership(membership: membership, version: MembershipVersion(stat.version)))
                } catch {
                    return .failure(error)
                }
            }
            guard reply.status == .noNode else { return .failure(failure(reply.status, path: path)) }
            guard watch else { return .success(nil) }
            let existence = await session.exists(path, watch: true)
            if existence.status == .noNode { return .success(nil) }
            guard existence.status.isOK else { return .failure(failure(existence.status, path: path)) }
        }
        return .failure(.unavailable(reason: "\(path) kept changing while being read; retry"))
    }

    public func createMembership(_ membership: GroupMembership, for group: GroupID)
        async throws(CoordinationError) -> VersionedMembership
    {
        let data = try encodeChecked(membership)
        try checkOpen()
        let path = layout.path(of: group)
        // Bounded: one retry after creating missing parents.
        for _ in 0..<2 {
            let reply = await session.create(path, data: data, ephemeral: false)
            if reply.status.isOK {
                let created = VersionedMembership(membership: membership, version: .initial)
                state.withLock { $0.remember(created, of: group, fromWatch: false) }
                return created
            }
            if reply.status == .nodeExists { throw .alreadyExists(.group(group)) }
            guard reply.status == .noNode else { throw failure(reply.status, path: path) }
            if let error = await ensureParents() { throw error }
        }
        throw .unavailable(reason: "\(layout.groupsPath) disappeared while creating \(path); retry")
    }

    public func compareAndSetMembership(
        _ membership: GroupMembership, for group: GroupID, expectedVersion: MembershipVersion
    ) async throws(CoordinationError) -> VersionedMembership {
        let data = try encodeChecked(membership)
        try checkOpen()
        let path = layout.path(of: group)
        let reply = await session.set(path, data: data, version: expectedVersion.rawValue)
        if reply.status == .badVersion { throw .conflict(group: group, expectedVersion: expectedVersion) }
        if reply.status == .noNode { throw .notFound(.group(group)) }
        guard reply.status.isOK, let stat = reply.stat else { throw failure(reply.status, path: path) }
        let stored = VersionedMembership(membership: membership, version: MembershipVersion(stat.version))
        state.withLock { $0.remember(stored, of: group, fromWatch: false) }
        return stored
    }

    private func encodeChecked(_ membership: GroupMembership) throws(CoordinationError) -> [UInt8] {
        try membership.validate(limits: configuration.limits)
        let data = CoordinationCodec.encode(membership)
        guard data.count <= configuration.limits.coordinationValueBytesMax else {
            throw .invalidArgument(reason: "membership record of \(data.count) bytes exceeds coordinationValueBytesMax")
        }
        return data
    }

    public func watchMembership(of group: GroupID) -> AsyncStream<VersionedMembership?> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: VersionedMembership?.self, bufferingPolicy: .bufferingNewest(1))
        let connected = session.connection == .connected
        let identifier: UInt64? = state.withLock { state in
            guard !state.closed else { return nil }
            precondition(state.watcherCount < configuration.limits.coordinationWatchersMax,
                         "more than coordinationWatchersMax watches: streams are being leaked")
            let cacheIsBest = state.groupWatchers.contains(group) || !connected
            let identifier = state.groupWatchers.add(continuation, for: group)
            if cacheIsBest, let known = state.groups[group] { state.groupWatchers.publish(known, for: group) }
            state.pending.groups.insert(group)
            return identifier
        }
        guard let identifier else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.groupWatchers.remove(identifier, for: group) }
        }
        wakeups.yield()
        return stream
    }
}
