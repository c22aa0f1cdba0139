/* SPDX-License-Identifier: BSD-2-Clause */
/* CRC32C through Intel ISA-L, which picks the fastest kernel for the CPU. */
#include "crc32c.h"

#include <isa-l/crc.h>
#include <limits.h>

uint32_t fdr_crc32c_update(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > INT_MAX) {
		crc = crc32_iscsi((unsigned char *)p, INT_MAX, crc);
		p += INT_MAX;
		len -= INT_MAX;
	}
	return crc32_iscsi((unsigned char *)p, (int)len, crc);
}
