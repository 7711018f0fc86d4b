#ifndef MOM_CRC32C_H
#define MOM_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU has SSE4.2 (the crc32 instruction), else 0. Call it (once is enough, from
/// any thread) before the first `mom_crc32c_hardware`: it also builds that function's tables.
int mom_crc32c_hardware_available(void);

/// Extends `crc` (pre- and post-inverted by the caller's convention: pass 0 to start)
/// over `length` bytes using the SSE4.2 crc32 instruction. Only call when available.
uint32_t mom_crc32c_hardware(uint32_t crc, const void *data, size_t length);

#endif
