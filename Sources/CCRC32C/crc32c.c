// Hardware CRC32C (Castagnoli) with the SSE4.2 crc32 instruction.
// The target attribute keeps the rest of the build portable: the function is only
// called after a CPUID check says the instruction exists.
//
// The crc32 instruction takes 3 cycles but can start one every cycle, so one dependent
// chain uses a third of it. Long inputs run as three chains over three adjacent blocks,
// joined afterwards: the CRC register is linear, so the register after blocks A then B is
// shift(reg after A, |B|) xor (reg over B started from 0), where shift(c, n) appends n zero
// bytes, i.e. multiplies c by x^(8n) modulo the polynomial. For the two fixed block sizes
// the shift is four lookups in tables built once at load.
#include "crc32c.h"
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <nmmintrin.h>

static void build_shift_tables(void);
static pthread_once_t shift_tables_once = PTHREAD_ONCE_INIT;

// Callers check this before the first mom_crc32c_hardware (the header's contract), so the
// shift tables are built here, once, whichever thread asks first.
int mom_crc32c_hardware_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if ((ecx & bit_SSE4_2) == 0) return 0;
    pthread_once(&shift_tables_once, build_shift_tables);
    return 1;
}

// Reflected Castagnoli polynomial.
#define POLY 0x82f63b78u
// Block sizes of the three chains: 3 x LONG bytes per round for long inputs, 3 x SHORT for
// the rest; both multiples of 8.
#define LONG 2048
#define SHORT 256

static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];

// a * b modulo POLY, both in the reflected representation (bit 31 is x^0).
static uint32_t multiply_mod(uint32_t a, uint32_t b) {
    uint32_t product = 0;
    // Bounded: one step per bit of a, 32 at most.
    for (uint32_t bit = 1u << 31; bit != 0; bit >>= 1) {
        if (a & bit) product ^= b;
        b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
    }
    return product;
}

// x^(8 * bytes) modulo POLY.
static uint32_t x_to_bytes(size_t bytes) {
    uint32_t result = 1u << 31;   // x^0
    uint32_t square = 1u << 23;   // x^8
    // Bounded: one step per bit of `bytes`.
    while (bytes != 0) {
        if (bytes & 1) result = multiply_mod(result, square);
        square = multiply_mod(square, square);
        bytes >>= 1;
    }
    return result;
}

static void build_shift_table(uint32_t table[4][256], size_t bytes) {
    uint32_t factor = x_to_bytes(bytes);
    for (int position = 0; position < 4; position++) {
        for (uint32_t value = 0; value < 256; value++) {
            table[position][value] = multiply_mod(factor, value << (8 * position));
        }
    }
}

static void build_shift_tables(void) {
    build_shift_table(shift_long, LONG);
    build_shift_table(shift_short, SHORT);
}

static inline uint32_t shift(const uint32_t table[4][256], uint32_t crc) {
    return table[0][crc & 0xff] ^ table[1][(crc >> 8) & 0xff] ^ table[2][(crc >> 16) & 0xff] ^ table[3][crc >> 24];
}

static inline uint64_t load64(const unsigned char *p) {
    uint64_t word;
    memcpy(&word, p, 8);
    return word;
}

// Three chains over blocks of `block` bytes starting at p, p + block and p + 2 * block.
__attribute__((target("sse4.2")))
static inline uint64_t three_blocks(uint64_t crc, const unsigned char *p, size_t block, const uint32_t table[4][256]) {
    uint64_t crc1 = 0, crc2 = 0;
    for (size_t i = 0; i < block; i += 8) {
        crc = _mm_crc32_u64(crc, load64(p + i));
        crc1 = _mm_crc32_u64(crc1, load64(p + block + i));
        crc2 = _mm_crc32_u64(crc2, load64(p + 2 * block + i));
    }
    crc = shift(table, (uint32_t)crc) ^ (uint32_t)crc1;
    return shift(table, (uint32_t)crc) ^ (uint32_t)crc2;
}

__attribute__((target("sse4.2")))
uint32_t mom_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t c = (uint32_t)~crc;
    while (length >= 3 * LONG) {
        c = three_blocks(c, p, LONG, shift_long);
        p += 3 * LONG;
        length -= 3 * LONG;
    }
    while (length >= 3 * SHORT) {
        c = three_blocks(c, p, SHORT, shift_short);
        p += 3 * SHORT;
        length -= 3 * SHORT;
    }
    while (length >= 8) {
        c = _mm_crc32_u64(c, load64(p));
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
