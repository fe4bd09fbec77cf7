#ifndef TRIBUTARY_CRC32C_HW_H
#define TRIBUTARY_CRC32C_HW_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the CRC-32C instruction (x86-64 SSE4.2), else 0.
int tributary_crc32c_available(void);

/// Continues a CRC-32C (Castagnoli) over bytes[offset ..< offset + count] with the CPU's
/// instruction. `crc` is the running value *inside* the complement (start with 0xFFFFFFFF,
/// complement the result), as in the table-driven Swift version. Only call it when
/// tributary_crc32c_available() returned 1.
uint32_t tributary_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t offset, size_t count);

#endif
