import Foundation
import MOMCore

/// The JSON stored in the znodes (docs/zookeeper.md). JSON rather than binary so an operator can
/// read and repair the records with `zkCli.sh get`. Decoding checks everything it returns:
/// a record written by something else must not crash or mislead a node.
enum CoordinationCodec {
    private struct RegistrationRecord: Codable {
        var http: String
        var raft: String
    }

    private struct MembershipRecord: Codable {
        var replicas: [UInt64]
        var learners: [UInt64]
        var epoch: UInt64
    }

    /// Bounds an address string; a `host:port` is far shorter.
    static let addressBytesMax = 1024

    static func encode(_ registration: NodeRegistration) -> [UInt8] {
        encode(RegistrationRecord(http: registration.http, raft: registration.raft))
    }

    static func encode(_ membership: GroupMembership) -> [UInt8] {
        encode(MembershipRecord(
            replicas: membership.replicas.map(\.rawValue),
            learners: membership.learners.map(\.rawValue),
            epoch: membership.epoch))
    }

    /// Rejects registrations that other nodes could not use.
    static func validate(_ registration: NodeRegistration) throws(CoordinationError) {
        for (name, address) in [("http", registration.http), ("raft", registration.raft)] {
            if address.isEmpty || address.utf8.count > addressBytesMax {
                throw .invalidArgument(reason: "\(name) address '\(address.prefix(64))' must be 1...\(addressBytesMax) bytes")
            }
        }
    }

    static func decodeRegistration(_ bytes: [UInt8], path: String) throws(CoordinationError) -> NodeRegistration {
        let record: RegistrationRecord = try decode(bytes, path: path)
        let registration = NodeRegistration(http: record.http, raft: record.raft)
        do {
            try validate(registration)
        } catch {
            throw .invalidData(path: path, reason: error.description)
        }
        return registration
    }

    static func decodeMembership(_ bytes: [UInt8], path: String, limits: Limits) throws(CoordinationError) -> GroupMembership {
        let record: MembershipRecord = try decode(bytes, path: path)
        let membership = GroupMembership(
            replicas: record.replicas.map(NodeID.init), learners: record.learners.map(NodeID.init), epoch: record.epoch)
        do {
            try membership.validate(limits: limits)
        } catch {
            throw .invalidData(path: path, reason: error.description)
        }
        return membership
    }

    private static func encode<Record: Encodable>(_ record: Record) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(record))
        } catch {
            // Only strings and integers go in; JSONEncoder cannot fail on them.
            preconditionFailure("encoding \(Record.self) failed: \(error)")
        }
    }

    private static func decode<Record: Decodable>(_ bytes: [UInt8], path: String) throws(CoordinationError) -> Record {
        do {
            return try JSONDecoder().decode(Record.self, from: Data(bytes))
        } catch {
            throw .invalidData(path: path, reason: "not the expected JSON record: \(error)")
        }
    }
}
