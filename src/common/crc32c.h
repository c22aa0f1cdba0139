/* SPDX-License-Identifier: BSD-2-Clause */
/* CRC32C (Castagnoli) as NVMe/TCP header and data digests use it. */
#ifndef FDR_CRC32C_H
#define FDR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#define FDR_CRC32C_INIT 0xffffffffu

/* Continue a running CRC (start with FDR_CRC32C_INIT). */
uint32_t fdr_crc32c_update(uint32_t crc, const void *buf, size_t len);
/* The final digest value of a running CRC. */
static inline uint32_t fdr_crc32c_final(uint32_t crc)
{
	return ~crc;
}
/* One-shot digest of a buffer. */
static inline uint32_t fdr_crc32c(const void *buf, size_t len)
{
	return fdr_crc32c_final(fdr_crc32c_update(FDR_CRC32C_INIT, buf, len));
}

#endif
