// Hardware CRC32C (Castagnoli) with the SSE4.2 crc32 instruction.
// The target attribute keeps the rest of the build portable: the function is only
// called after a CPUID check says the instruction exists.
#include "crc32c.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <nmmintrin.h>

int mom_crc32c_hardware_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
}

__attribute__((target("sse4.2")))
uint32_t mom_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t c = (uint32_t)~crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        length -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (length > 0) {
        c32 = _mm_crc32_u8(c32, *p);
        p++;
        length--;
    }
    return ~c32;
}
#else
int mom_crc32c_hardware_available(void) { return 0; }
uint32_t mom_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    (void)data; (void)length; return crc;
}
#endif
