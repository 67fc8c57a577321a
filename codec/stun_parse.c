/* STUN parsing: one pass over the attributes, bounds and padding checked, offsets recorded
 * for the known ones, unknown comprehension-required ones collected for a 420, and what
 * follows the integrity attributes ignored as RFC 8489 14.5-14.7 require. */
#include <arpa/inet.h>
#include <errno.h>

#include "stun.h"

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The dense index of a known attribute type, or -1. */
static int attr_index(uint16_t type)
{
	switch (type) {
#define X(name, t)                                                                                 \
	case t:                                                                                    \
		return STUN_AI_##name;
		STUN_ATTRS(X)
#undef X
	default:
		return -1;
	}
}

int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *m)
{
	uint16_t type, mlen, off;
	bool after_mi = false, after_mi256 = false;

	if (len < STUN_HDR_LEN)
		return -STUN_E_SHORT;
	type = be16(buf);
	if ((type & 0xc000) || be32(buf + 4) != STUN_MAGIC)
		return -STUN_E_NOT_STUN;
	mlen = be16(buf + 2);
	if (mlen & 3)
		return -STUN_E_LENGTH;
	if ((size_t)mlen + STUN_HDR_LEN > len)
		return -STUN_E_SHORT;
	if (mlen > 0xffff - STUN_HDR_LEN)	/* the view's offsets are 16-bit */
		return -STUN_E_LENGTH;

	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->len = (uint16_t)(mlen + STUN_HDR_LEN);
	m->method = (uint16_t)((type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2));
	m->cls = (uint8_t)(((type >> 4) & 1) | ((type >> 7) & 2));
	m->tid = buf + 8;
	/* Send and Data exist only as indications; everything else of TURN is request/response */
	if ((m->method == STUN_SEND || m->method == STUN_DATA) && m->cls != STUN_INDICATION)
		return -STUN_E_TYPE;

	for (off = STUN_HDR_LEN; off < m->len;) {
		uint16_t at, al;
		uint32_t padded;	/* 32 bits: a length of 0xffff pads to 0x10000 */
		int ai;

		if (m->len - off < 4)
			return -STUN_E_ATTR;
		at = be16(buf + off);
		al = be16(buf + off + 2);
		padded = ((uint32_t)al + 3) & ~3u;
		if (padded > (uint32_t)(m->len - off - 4))
			return -STUN_E_ATTR;
		if (m->fp_at)
			break;	/* nothing may follow FINGERPRINT: ignore it */
		if (after_mi256 && at != STUN_ATTR_FINGERPRINT)
			goto next;
		if (after_mi && at != STUN_ATTR_FINGERPRINT && at != STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
			goto next;
		ai = attr_index(at);
		if (ai < 0) {
			if (at < 0x8000 && m->n_unknown < STUN_MAX_UNKNOWN) {
				bool seen = false;
				for (int i = 0; i < m->n_unknown; i++)
					seen |= m->unknown[i] == at;
				if (!seen)
					m->unknown[m->n_unknown++] = at;
			}
			goto next;
		}
		if (ai == STUN_AI_XOR_PEER_ADDRESS && m->n_peers < STUN_MAX_PEERS) {
			m->peer_off[m->n_peers] = (uint16_t)(off + 4);
			m->peer_len[m->n_peers++] = al;
		}
		if (!m->off[ai]) {	/* duplicates: the first one counts */
			m->off[ai] = (uint16_t)(off + 4);
			m->alen[ai] = al;
			if (at == STUN_ATTR_MESSAGE_INTEGRITY) {
				m->mi_at = off;
				after_mi = true;
			} else if (at == STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
				m->mi256_at = off;
				after_mi256 = true;
			} else if (at == STUN_ATTR_FINGERPRINT) {
				m->fp_at = off;
			}
		}
next:
		off = (uint16_t)(off + 4 + padded);	/* <= m->len, checked above */
	}
	return 0;
}

int stun_parse_error_code(int err, const uint8_t *buf, size_t len)
{
	/* only a request that is recognisably STUN gets an answer (RFC 8489 6.3) */
	if (err >= 0 || err == -STUN_E_NOT_STUN || len < STUN_HDR_LEN)
		return 0;
	if (((buf[0] & 0x01) | (buf[1] & 0x10)) != 0)	/* not a request */
		return 0;
	return 400;
}

int stun_get_u32(const struct stun_msg *m, enum stun_attr_index ai, uint32_t *v)
{
	if (!m->off[ai] || m->alen[ai] != 4)
		return -EINVAL;
	*v = be32(stun_val(m, ai));
	return 0;
}

int stun_get_u64(const struct stun_msg *m, enum stun_attr_index ai, uint64_t *v)
{
	const uint8_t *p = stun_val(m, ai);

	if (!m->off[ai] || m->alen[ai] != 8)
		return -EINVAL;
	*v = (uint64_t)be32(p) << 32 | be32(p + 4);
	return 0;
}

int stun_get_str(const struct stun_msg *m, enum stun_attr_index ai, const char **s, size_t *len)
{
	if (!m->off[ai])
		return -EINVAL;
	*s = (const char *)stun_val(m, ai);
	*len = m->alen[ai];
	return 0;
}

static int get_addr(const uint8_t *p, uint16_t len, const uint8_t *tid, bool xor,
	struct stun_addr *a)
{
	static const uint8_t cookie[4] = { 0x21, 0x12, 0xa4, 0x42 };

	if (len < 4 || p[0] != 0)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	memcpy(&a->port, p + 2, 2);
	if (xor)
		a->port ^= htons(STUN_MAGIC >> 16);
	if (p[1] == 0x01 && len == 8) {
		a->family = 4;
		for (int i = 0; i < 4; i++)
			a->ip[i] = p[4 + i] ^ (xor ? cookie[i] : 0);
		return 0;
	}
	if (p[1] == 0x02 && len == 20) {
		a->family = 6;
		for (int i = 0; i < 16; i++)
			a->ip[i] = p[4 + i] ^ (xor ? (i < 4 ? cookie[i] : tid[i - 4]) : 0);
		return 0;
	}
	return -EINVAL;
}

int stun_get_peer(const struct stun_msg *m, unsigned int i, struct stun_addr *a)
{
	if (i >= m->n_peers)
		return -EINVAL;
	return get_addr(m->buf + m->peer_off[i], m->peer_len[i], m->tid, true, a);
}

int stun_get_xor_addr(const struct stun_msg *m, enum stun_attr_index ai, struct stun_addr *a)
{
	if (!m->off[ai])
		return -EINVAL;
	return get_addr(stun_val(m, ai), m->alen[ai], m->tid, true, a);
}

int stun_get_addr(const struct stun_msg *m, enum stun_attr_index ai, struct stun_addr *a)
{
	if (!m->off[ai])
		return -EINVAL;
	return get_addr(stun_val(m, ai), m->alen[ai], m->tid, false, a);
}

int stun_get_error(const struct stun_msg *m, int *code, const char **reason, size_t *len)
{
	const uint8_t *p = stun_val(m, STUN_AI_ERROR_CODE);

	if (!m->off[STUN_AI_ERROR_CODE] || m->alen[STUN_AI_ERROR_CODE] < 4)
		return -EINVAL;
	if ((p[2] & 0x07) < 3 || (p[2] & 0x07) > 6 || p[3] > 99)
		return -EINVAL;
	*code = (p[2] & 0x07) * 100 + p[3];
	*reason = (const char *)p + 4;
	*len = m->alen[STUN_AI_ERROR_CODE] - 4u;
	return 0;
}

int stun_get_channel(const struct stun_msg *m, uint16_t *ch)
{
	if (!m->off[STUN_AI_CHANNEL_NUMBER] || m->alen[STUN_AI_CHANNEL_NUMBER] != 4)
		return -EINVAL;
	*ch = be16(stun_val(m, STUN_AI_CHANNEL_NUMBER));
	return 0;
}

int stun_get_transport(const struct stun_msg *m, uint8_t *proto)
{
	if (!m->off[STUN_AI_REQUESTED_TRANSPORT] || m->alen[STUN_AI_REQUESTED_TRANSPORT] != 4)
		return -EINVAL;
	*proto = stun_val(m, STUN_AI_REQUESTED_TRANSPORT)[0];
	return 0;
}
