// CRC-32C with the SSE4.2 `crc32` instruction: eight bytes per instruction instead of eight
// table lookups. One of two small C modules (with CSHA256) besides libuv's headers; the Swift
// side keeps the table-driven version for CPUs without it and checks the two in tests.
#include "crc32c_hw.h"
#include <string.h>

#if defined(__x86_64__)

int tributary_crc32c_available(void) {
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t tributary_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t offset, size_t count) {
    const uint8_t *p = bytes + offset;
    uint64_t c = crc;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);   // unaligned load, little-endian as the algorithm expects
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        count -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (count > 0) {
        c32 = __builtin_ia32_crc32qi(c32, *p);
        p++;
        count--;
    }
    return c32;
}

#else

int tributary_crc32c_available(void) { return 0; }

uint32_t tributary_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t offset, size_t count) {
    (void)bytes; (void)offset; (void)count;
    return crc;   // never called: tributary_crc32c_available() is 0
}

#endif
