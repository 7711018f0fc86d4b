import MOMCore

/// The handle a receiver gets with a queue message and passes back to ack it. The text is
/// opaque to clients: `1-<partition>-<offset>-<delivery>-<claim id, 16 hex digits>`. Forging one
/// is harmless: an ack counts only when the claim ID is the message's current claim, and claim
/// IDs are random 64-bit nonces chosen by the leader.
struct QueueReceipt: Hashable, Sendable, CustomStringConvertible {
    let partition: PartitionID
    let offset: Offset
    let deliveryCount: UInt32
    let claimID: UInt64

    init(partition: PartitionID, offset: Offset, deliveryCount: UInt32, claimID: UInt64) {
        self.partition = partition
        self.offset = offset
        self.deliveryCount = deliveryCount
        self.claimID = claimID
    }

    init(partition: PartitionID, delivery: QueueDelivery) {
        self.init(partition: partition, offset: delivery.offset, deliveryCount: delivery.deliveryCount, claimID: delivery.claimID)
    }

    /// The receipt string returned by `POST /v1/queues/{q}/receive`.
    var text: String {
        let hex = String(claimID, radix: 16)
        let padded = String(repeating: "0", count: 16 - hex.count) + hex
        return "1-\(partition.rawValue)-\(offset.rawValue)-\(deliveryCount)-\(padded)"
    }

    var description: String { text }

    /// Parses a receipt from a client; 400 when it is not one this broker could have issued.
    init(text: String) throws(ModelError) {
        let malformed = ModelError.badRequest(
            "receipt '\(ResourceName.printable(text))' is malformed; pass receipts exactly as receive returned them")
        guard text.utf8.count <= 80 else { throw malformed }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "1", parts[4].utf8.count == 16,
              parts[1...3].allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (48...57).contains($0) } }),
              let partition = UInt32(parts[1]), let offset = UInt64(parts[2]), let delivery = UInt32(parts[3]),
              parts[4].utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
              let claimID = UInt64(parts[4], radix: 16)
        else { throw malformed }
        self.init(partition: PartitionID(partition), offset: Offset(offset), deliveryCount: delivery, claimID: claimID)
    }

    /// The ack record entry for this receipt.
    var ackEntry: QueueAckEntry { QueueAckEntry(offset: offset, claimID: claimID) }
}
