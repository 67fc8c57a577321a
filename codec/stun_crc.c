/* CRC-32 for FINGERPRINT (RFC 8489 14.7: the IEEE 802.3 CRC, as zlib's crc32()). Slicing by
 * eight bytes is three times zlib 1.2.13's speed on control messages (zlib's braided code pays
 * a set-up that only long buffers win back); from 384 bytes zlib is faster, so it takes over
 * there (bench/results/stun.md has both curves). */
#include <pthread.h>
#include <zlib.h>

#include "stun.h"

#define STUN_CRC_ZLIB_FROM 384 /* the crossover measured on the bench machine */

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* table[0] is the byte-at-a-time table; table[k][b] is the CRC of b followed by k zero bytes,
 * which lets eight table lookups advance the CRC by eight bytes at once. */
static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
		table[0][i] = c;
	}
	for (int i = 0; i < 256; i++)
		for (int k = 1; k < 8; k++)
			table[k][i] = (table[k - 1][i] >> 8) ^ table[0][table[k - 1][i] & 0xff];
}

uint32_t stun_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (len >= STUN_CRC_ZLIB_FROM)
		return (uint32_t)crc32(crc, buf, (uInt)len);
	pthread_once(&table_once, table_init);
	crc = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		/* assembled byte by byte so that it is the same on any host byte order */
		uint32_t lo = crc ^
			((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				(uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			(uint32_t)p[7] << 24;

		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
			table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^ table[3][hi & 0xff] ^
			table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^
			table[0][hi >> 24];
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
