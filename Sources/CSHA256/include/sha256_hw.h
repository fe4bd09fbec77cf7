#ifndef TRIBUTARY_SHA256_HW_H
#define TRIBUTARY_SHA256_HW_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the SHA-256 instructions (x86-64 SHA extensions, with SSSE3 and
/// SSE4.1), else 0.
int tributary_sha256_available(void);

/// Runs the SHA-256 compression function over `blocks` 64-byte blocks at bytes[offset...],
/// updating `state` (the eight working words h0…h7, as in FIPS 180-4). Only call it when
/// tributary_sha256_available() returned 1.
void tributary_sha256_blocks(uint32_t state[8], const uint8_t *bytes, size_t offset, size_t blocks);

#endif
