/* crc32c: the CRC-32C (Castagnoli) that seals every journal line (SPEC 3).
 * Pure function over bytes; it must never change its result for the same input,
 * or every existing event log would read as damaged. */
#ifndef TANDEM_CRC32C_H
#define TANDEM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Returns the CRC-32C of buf[0..len) continued from crc, where crc is 0 to
 * start or the result of an earlier call over the preceding bytes, so
 * crc32c(crc32c(0, a, n), b, m) equals the CRC of a followed by b.
 * Reflected polynomial 0x82F63B78, initial and final xor 0xFFFFFFFF:
 * crc32c(0, "123456789", 9) == 0xE3069283. buf may be NULL when len is 0.
 * Cannot fail; keeps no state. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The same CRC by the portable byte table only, whatever the CPU offers, so
 * tests can hold both implementations to one reference. */
uint32_t crc32c_table_only(uint32_t crc, const void *buf, size_t len);

#endif
