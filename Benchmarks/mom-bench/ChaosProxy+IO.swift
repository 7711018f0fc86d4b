import Glibc
import SystemIO

extension ChaosProxy {
    /// One poll(2) pass over the listeners and every connection, then the reads and writes it
    /// allows.
    func pollOnce(timeoutMilliseconds: Int32) {
        var descriptors: [pollfd] = listeners.map { pollfd(fd: $0.descriptor.rawValue, events: Int16(POLLIN), revents: 0) }
        var owners: [(Pair, Bool)] = []
        for pair in pairs where !pair.closed {
            var inboundEvents = Int16(0)
            if pair.toTarget.count < Self.bufferedBytesMax { inboundEvents |= Int16(POLLIN) }
            if !pair.toDialer.isEmpty { inboundEvents |= Int16(POLLOUT) }
            descriptors.append(pollfd(fd: pair.inbound.rawValue, events: inboundEvents, revents: 0))
            owners.append((pair, true))
            if let outbound = pair.outbound {
                var outboundEvents = Int16(0)
                if pair.toDialer.count < Self.bufferedBytesMax { outboundEvents |= Int16(POLLIN) }
                if !pair.toTarget.isEmpty { outboundEvents |= Int16(POLLOUT) }
                descriptors.append(pollfd(fd: outbound.rawValue, events: outboundEvents, revents: 0))
                owners.append((pair, false))
            }
        }
        let ready = poll(&descriptors, nfds_t(descriptors.count), timeoutMilliseconds)
        guard ready > 0 else { return }
        for (index, listener) in listeners.enumerated() where descriptors[index].revents != 0 {
            acceptAll(listener)
        }
        for (offset, (pair, isInbound)) in owners.enumerated() where !pair.closed {
            let events = descriptors[listeners.count + offset].revents
            guard events != 0 else { continue }
            if events & Int16(POLLIN | POLLHUP | POLLERR) != 0 { receive(pair, inbound: isInbound) }
            if !pair.closed && events & Int16(POLLOUT) != 0 { flush(pair, inbound: isInbound) }
        }
    }

    private func acceptAll(_ listener: (node: Int, descriptor: FileDescriptor, target: UInt16)) {
        // Bounded: a few accepts per pass.
        for _ in 0..<16 {
            guard let accepted = try? listener.descriptor.acceptConnection() else { return }
            let (descriptor, _) = accepted
            guard pairs.count < Self.pairsMax else {
                try? descriptor.close()
                continue
            }
            pairs.append(Pair(inbound: descriptor, targetNode: listener.node))
        }
    }

    private func receive(_ pair: Pair, inbound: Bool) {
        guard let descriptor = inbound ? pair.inbound : pair.outbound else { return }
        let count: Int?
        do {
            count = try scratch.withUnsafeMutableBytes { buffer throws(Errno) in try descriptor.receive(into: buffer) }
        } catch {
            pair.closed = true
            return
        }
        guard let count else { return }
        guard count > 0 else {
            pair.closed = true
            return
        }
        if inbound { pair.toTarget += scratch[0..<count] } else { pair.toDialer += scratch[0..<count] }
        if inbound && pair.outbound == nil { startForwarding(pair) }
        if !pair.closed { flush(pair, inbound: !inbound) }
    }

    /// Once the dialer's handshake frame is complete: learn the link, refuse it when blocked,
    /// else connect to the target node's real Raft port.
    private func startForwarding(_ pair: Pair) {
        guard let sender = Self.handshakeSender(pair.toTarget) else {
            if pair.toTarget.count > Self.handshakeBytesMax { pair.closed = true }
            return
        }
        let link = Link(sender, pair.targetNode)
        pair.link = link
        guard !blocked.contains(link), let route = listeners.first(where: { $0.node == pair.targetNode }) else {
            pair.closed = true
            return
        }
        do {
            let outbound = try FileDescriptor.connectTCP(to: .loopback(port: route.target))
            pair.outbound = outbound
            var descriptor = pollfd(fd: outbound.rawValue, events: Int16(POLLOUT), revents: 0)
            // Loopback connects complete at once or are refused; wait at most one second.
            if poll(&descriptor, 1, 1_000) != 1 || (try? outbound.pendingSocketError()) != nil { pair.closed = true }
        } catch {
            pair.closed = true
        }
    }

    /// Writes what is buffered toward the dialer (`inbound`) or toward the target.
    func flush(_ pair: Pair, inbound: Bool) {
        guard let descriptor = inbound ? pair.inbound : pair.outbound else { return }
        var buffer = inbound ? pair.toDialer : pair.toTarget
        guard !buffer.isEmpty else { return }
        let written: Int?
        do {
            written = try buffer.withUnsafeBytes { raw throws(Errno) in try descriptor.send(from: raw) }
        } catch {
            pair.closed = true
            return
        }
        guard let written, written > 0 else { return }
        buffer.removeFirst(written)
        if inbound { pair.toDialer = buffer } else { pair.toTarget = buffer }
    }

    /// The sender of a complete handshake frame at the start of `bytes` (Transport's Frame:
    /// length, CRC32C, kind 1, version, cluster id, sender, receiver), or nil if incomplete.
    static func handshakeSender(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 8 else { return nil }
        let length = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        guard bytes.count >= 8 + length, length >= 1, bytes[8] == 1 else { return nil }
        var position = 9
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while position < 8 + length && shift < 64 {
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        guard varint() != nil, let clusterLength = varint() else { return nil }
        position += Int(clusterLength)
        guard position < 8 + length, let sender = varint() else { return nil }
        return Int(sender)
    }
}
