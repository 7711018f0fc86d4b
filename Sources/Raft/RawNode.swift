import MOMCore

/// The thread-unsafe driver of one Raft node (etcd's rawnode.go). INTERIM: signatures only;
/// the logic lands in the next commits.
public final class RawNode {
    public init(config: RaftConfig, storage: any RaftStorage, random: any RandomSource) throws {
        config.validate()
        preconditionFailure("RawNode: not implemented yet")
    }
    public func tick() {}
    public func step(_ message: Message) throws {}
    public func propose(_ data: [UInt8]) throws {}
    public func proposeConfigChange(_ change: ConfigChange) throws {}
    public func campaign() throws {}
    public func transferLeadership(to transferee: NodeID) {}
    public func readIndex(context: [UInt8]) throws {}
    public func reportUnreachable(_ peer: NodeID) {}
    public func reportSnapshot(to peer: NodeID, succeeded: Bool) {}
    public func hasReady() -> Bool { false }
    public func ready() -> Ready { Ready() }
    public func advance(_ ready: Ready) {}
    public var status: Status { preconditionFailure() }
    public var basicStatus: SoftState { preconditionFailure() }
}
