#ifndef MOM_CZOOKEEPER_SHIM_H
#define MOM_CZOOKEEPER_SHIM_H
// THREADED selects libzookeeper-mt's API (the sync calls are declared only with it).
// It is a library switch, not a libc feature macro.
#define THREADED 1
#include <stdio.h>
#include <zookeeper/zookeeper.h>

// Swift cannot reach a mutable C global (ZOO_OPEN_ACL_UNSAFE) or the `stderr` macro safely under
// strict concurrency, so these accessors hand them over. They are `static inline`: no C target needed.

/// The "world: anyone may do anything" ACL. MOM's znodes carry no secrets; access to ZooKeeper
/// itself is restricted to the loopback or a private network.
static inline struct ACL_vector *mom_zoo_open_acl_unsafe(void) {
    return &ZOO_OPEN_ACL_UNSAFE;
}

/// Sends the client library's log to stderr at `level` (1 = ERROR, 2 = WARN, 3 = INFO,
/// 4 = DEBUG); 0 silences it. The setting is process-wide in libzookeeper.
static inline void mom_zoo_set_log(int level) {
    zoo_set_log_stream(stderr);
    zoo_set_debug_level((ZooLogLevel)level);
}

/// Writes one line of the C client's log to stderr. Its log callback receives lines without the
/// newline that its default stream writer adds. One stdio call, so lines from the library's
/// threads never interleave.
static inline void mom_zoo_write_log_line(const char *message) {
    fprintf(stderr, "%s\n", message);
}

#endif
