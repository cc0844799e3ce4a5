/* crc32c: the CRC-32C (Castagnoli) that seals every journal line (SPEC 3).
 * Pure function over bytes; it must never change its result for the same input,
 * or every existing event log would read as damaged. */
#ifndef TANDEM_CRC32C_H
#define TANDEM_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The seal at the end of every log line and snapshot: ,"crc":"xxxxxxxx"} — the CRC-32C
 * of the bytes before it, in 8 lowercase hex digits. */
#define CRC32C_SEAL_TAG ",\"crc\":\""
#define CRC32C_SEAL_LEN 18

/* Reads the seal ending p[0..n) into *stored; false when there is none or it is not
 * well-formed (the writer only ever prints lowercase hex). Does not check it against the
 * bytes: compare *stored with crc32c(0, p, n - CRC32C_SEAL_LEN). */
bool crc32c_seal_read(const char *p, size_t n, uint32_t *stored);
/* Reads 8 lowercase hex digits at p (a crc as the writer prints it); false otherwise. */
bool crc32c_hex_read(const char *p, uint32_t *out);

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
