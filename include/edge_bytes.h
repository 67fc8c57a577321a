/* Loads and stores at any alignment: packet fields sit wherever the packet puts them. The
 * be* pair decodes big-endian (network order) bytes into a host-order value; the raw pair
 * moves bytes as they are (values stay in network order, as DPDK's headers keep them). */
#ifndef EDGE_BYTES_H
#define EDGE_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t edge_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t edge_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t rd16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t rd32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline void wr16(void *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void wr32(void *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

#endif
