#ifndef MOM_CZOOKEEPER_SHIM_H
#define MOM_CZOOKEEPER_SHIM_H
// THREADED selects libzookeeper-mt's API (the sync calls are declared only with it).
// It is a library switch, not a libc feature macro.
#define THREADED 1
#include <zookeeper/zookeeper.h>
#endif
