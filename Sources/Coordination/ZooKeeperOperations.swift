import CZooKeeper

/// The asynchronous znode operations MOM uses, one C call each. `watch` sets a one-shot watch
/// reported through the handle's global watcher (`ZooKeeperSessionEvent.watch`).
extension ZooKeeperSession {
    /// Creates `path` with `data` (nil: no data), ephemeral or persistent, world-readable.
    func create(_ path: String, data: [UInt8]?, ephemeral: Bool) async -> ZooKeeperReply {
        let mode = ephemeral ? ZOO_EPHEMERAL : ZOO_PERSISTENT
        return await issue { handle, token in
            withOptionalBytes(data) { bytes, length in
                zoo_acreate(handle, path, bytes, length, mom_zoo_open_acl_unsafe(), mode, zooKeeperStringCompletion, token)
            }
        }
    }

    /// Reads `path`'s data and stat.
    func get(_ path: String, watch: Bool) async -> ZooKeeperReply {
        await issue { handle, token in
            zoo_aget(handle, path, watch ? 1 : 0, zooKeeperDataCompletion, token)
        }
    }

    /// Replaces `path`'s data if its version is still `version` (-1: any version).
    func set(_ path: String, data: [UInt8], version: Int32) async -> ZooKeeperReply {
        await issue { handle, token in
            withOptionalBytes(data) { bytes, length in
                zoo_aset(handle, path, bytes, length, version, zooKeeperStatCompletion, token)
            }
        }
    }

    /// Deletes `path` if its version is still `version` (-1: any version).
    func delete(_ path: String, version: Int32) async -> ZooKeeperReply {
        await issue { handle, token in
            zoo_adelete(handle, path, version, zooKeeperVoidCompletion, token)
        }
    }

    /// Stats `path`; with `watch`, also watches for its creation when it does not exist.
    func exists(_ path: String, watch: Bool) async -> ZooKeeperReply {
        await issue { handle, token in
            zoo_aexists(handle, path, watch ? 1 : 0, zooKeeperStatCompletion, token)
        }
    }

    /// Lists `path`'s children, with `path`'s stat.
    func children(_ path: String, watch: Bool) async -> ZooKeeperReply {
        await issue { handle, token in
            zoo_aget_children2(handle, path, watch ? 1 : 0, zooKeeperChildrenCompletion, token)
        }
    }
}

/// Hands `data` to the C API as (pointer, length); nil becomes (NULL, -1), ZooKeeper's "no data".
private func withOptionalBytes(_ data: [UInt8]?, _ body: (UnsafePointer<CChar>?, Int32) -> Int32) -> Int32 {
    guard let data else { return body(nil, -1) }
    return data.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { characters in
            body(characters.baseAddress, Int32(characters.count))
        }
    }
}
