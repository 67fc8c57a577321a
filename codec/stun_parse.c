/* STUN parsing: one pass over the attributes, bounds and padding checked, offsets recorded
 * for the known ones, unknown comprehension-required ones collected for a 420, and what
 * follows the integrity attributes ignored as RFC 8489 14.5-14.7 require. No heap, no copy:
 * the view points into the caller's packet. */
#include <arpa/inet.h>
#include <errno.h>

#include "stun.h"

#define be16 edge_be16
#define be32 edge_be32

/* The dense index of a known attribute type, or -1. A switch: the compiler makes it a
 * jump table or a binary search, either cheaper than a 64K-entry table in the cache. */
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

/* Method/class pairs no agent may send: Send and Data exist only as indications (RFC 8656
 * 10, 11), the TURN requests never as indications. */
static bool type_allowed(uint16_t method, uint8_t cls)
{
	switch (method) {
	case STUN_SEND:
	case STUN_DATA:
		return cls == STUN_INDICATION;
	case STUN_ALLOCATE:
	case STUN_REFRESH:
	case STUN_CREATE_PERMISSION:
	case STUN_CHANNEL_BIND:
	case STUN_CONNECT:
	case STUN_CONNECTION_BIND:
		return cls != STUN_INDICATION;
	default:
		return true;
	}
}

static void note_unknown(struct stun_msg *m, uint16_t at)
{
	for (int i = 0; i < m->n_unknown; i++)
		if (m->unknown[i] == at)
			return;
	if (m->n_unknown < STUN_MAX_UNKNOWN)
		m->unknown[m->n_unknown++] = at;
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

	/* the header is sound from here on: keep it, so a broken request can still be answered */
	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->len = STUN_HDR_LEN;
	m->method = stun_type_method(type);
	m->cls = stun_type_class(type);
	m->tid = buf + 8;
	mlen = be16(buf + 2);
	if (mlen & 3)
		return -STUN_E_LENGTH;
	if ((size_t)mlen + STUN_HDR_LEN > len)
		return -STUN_E_SHORT;
	if (mlen > STUN_MAX_MSG - STUN_HDR_LEN) /* the view's offsets are 16-bit */
		return -STUN_E_LENGTH;
	if (!type_allowed(m->method, m->cls))
		return -STUN_E_TYPE;
	m->len = (uint16_t)(mlen + STUN_HDR_LEN);

	for (off = STUN_HDR_LEN; off < m->len;) {
		uint16_t at, al;
		uint32_t padded; /* 32 bits: a length of 0xffff pads to 0x10000 */
		int ai;

		if (m->fp_at)
			break; /* FINGERPRINT is last: whatever follows is ignored, unread */
		if (m->len - off < 4)
			return -STUN_E_ATTR;
		at = be16(buf + off);
		al = be16(buf + off + 2);
		padded = ((uint32_t)al + 3) & ~3u;
		if (padded > (uint32_t)(m->len - off - 4))
			return -STUN_E_ATTR;
		/* after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count,
		 * after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT (RFC 8489 14.5, 14.6) */
		if (after_mi256 && at != STUN_ATTR_FINGERPRINT)
			goto next;
		if (after_mi && at != STUN_ATTR_FINGERPRINT &&
			at != STUN_ATTR_MESSAGE_INTEGRITY_SHA256)
			goto next;
		ai = attr_index(at);
		if (ai < 0) {
			if (at < 0x8000) /* comprehension-required: the 420's list */
				note_unknown(m, at);
			goto next;
		}
		if (ai == STUN_AI_XOR_PEER_ADDRESS && m->n_peers < STUN_MAX_PEERS) {
			m->peer_off[m->n_peers] = (uint16_t)(off + 4);
			m->peer_len[m->n_peers++] = al;
		}
		if (m->off[ai])
			goto next; /* a duplicate: the first one counts (RFC 8489 14) */
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
next:
		off = (uint16_t)(off + 4 + padded); /* <= m->len, checked above */
	}
	return 0;
}

int stun_parse_error_code(int err, const uint8_t *buf, size_t len)
{
	/* only a request that is recognisably STUN gets an answer (RFC 8489 6.3) */
	if (err >= 0 || err == -STUN_E_NOT_STUN || len < STUN_HDR_LEN)
		return 0;
	if (stun_type_class(be16(buf)) != STUN_REQUEST)
		return 0;
	/* a request of a method that has none (Send, Data), however malformed otherwise: its
	 * error response would be a type no agent may send either, so it gets nothing (found
	 * by fuzz_turn) */
	if (stun_type_method(be16(buf)) == STUN_SEND || stun_type_method(be16(buf)) == STUN_DATA)
		return 0;
	return 400;
}

const char *stun_parse_strerror(int err)
{
	static const char *const names[STUN_E_MAX] = {
		[0] = "ok",
		[STUN_E_SHORT] = "truncated",
		[STUN_E_NOT_STUN] = "not STUN",
		[STUN_E_LENGTH] = "bad length",
		[STUN_E_ATTR] = "attribute overruns the message",
		[STUN_E_TYPE] = "method cannot have that class",
	};

	if (err > 0 || -err >= STUN_E_MAX)
		return "unknown error";
	return names[-err];
}

int stun_unknown_answer(const struct stun_msg *m)
{
	if (!m->n_unknown)
		return 0;
	return m->cls == STUN_REQUEST ? 420 : -EPROTO;
}

/* ---- attribute values ---- */

static bool present(const struct stun_msg *m, enum stun_attr_index ai)
{
	return (unsigned int)ai < STUN_AI_MAX && m->off[ai];
}

int stun_get_u32(const struct stun_msg *m, enum stun_attr_index ai, uint32_t *v)
{
	if (!present(m, ai) || m->alen[ai] != 4)
		return -EINVAL;
	*v = be32(stun_val(m, ai));
	return 0;
}

int stun_get_u64(const struct stun_msg *m, enum stun_attr_index ai, uint64_t *v)
{
	const uint8_t *p;

	if (!present(m, ai) || m->alen[ai] != 8)
		return -EINVAL;
	p = stun_val(m, ai);
	*v = (uint64_t)be32(p) << 32 | be32(p + 4);
	return 0;
}

int stun_get_str(const struct stun_msg *m, enum stun_attr_index ai, const char **s, size_t *len)
{
	if (!present(m, ai))
		return -EINVAL;
	*s = (const char *)stun_val(m, ai);
	*len = m->alen[ai];
	return 0;
}

/* MAPPED-ADDRESS and ALTERNATE-SERVER: the same layout without the XOR. */
static int plain_addr(const uint8_t *p, uint16_t len, struct stun_addr *a)
{
	if (len != 8 && len != 20)
		return -EINVAL;
	if (p[0] != 0 || !((p[1] == 0x01 && len == 8) || (p[1] == 0x02 && len == 20)))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->family = p[1] == 0x01 ? 4 : 6;
	memcpy(&a->port, p + 2, 2);
	memcpy(a->ip, p + 4, len - 4u);
	return 0;
}

int stun_get_peer(const struct stun_msg *m, unsigned int i, struct stun_addr *a)
{
	if (i >= m->n_peers)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	return stun_xor_addr_decode(m->buf + m->peer_off[i], m->peer_len[i], m->tid, a);
}

int stun_get_xor_addr(const struct stun_msg *m, enum stun_attr_index ai, struct stun_addr *a)
{
	if (!present(m, ai))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	return stun_xor_addr_decode(stun_val(m, ai), m->alen[ai], m->tid, a);
}

int stun_get_addr(const struct stun_msg *m, enum stun_attr_index ai, struct stun_addr *a)
{
	if (!present(m, ai))
		return -EINVAL;
	return plain_addr(stun_val(m, ai), m->alen[ai], a);
}

/* ERROR-CODE and ADDRESS-ERROR-CODE share the class (3 bits) and number (0..99) fields. */
static int error_fields(const uint8_t *p, uint16_t len, int *code, const char **reason,
	size_t *rlen)
{
	if (len < 4 || (p[2] & 0x07) < 3 || (p[2] & 0x07) > 6 || p[3] > 99)
		return -EINVAL;
	*code = (p[2] & 0x07) * 100 + p[3];
	*reason = (const char *)p + 4;
	*rlen = len - 4u;
	return 0;
}

int stun_get_error(const struct stun_msg *m, int *code, const char **reason, size_t *len)
{
	if (!present(m, STUN_AI_ERROR_CODE))
		return -EINVAL;
	return error_fields(stun_val(m, STUN_AI_ERROR_CODE), m->alen[STUN_AI_ERROR_CODE], code,
		reason, len);
}

static int family_of(uint8_t wire, uint8_t *family)
{
	if (wire != 0x01 && wire != 0x02)
		return -EINVAL;
	*family = wire == 0x01 ? 4 : 6;
	return 0;
}

int stun_get_address_error(const struct stun_msg *m, uint8_t *family, int *code,
	const char **reason, size_t *len)
{
	const uint8_t *p = stun_val(m, STUN_AI_ADDRESS_ERROR_CODE);

	if (!present(m, STUN_AI_ADDRESS_ERROR_CODE) || m->alen[STUN_AI_ADDRESS_ERROR_CODE] < 4 ||
		family_of(p[0], family) < 0)
		return -EINVAL;
	return error_fields(p, m->alen[STUN_AI_ADDRESS_ERROR_CODE], code, reason, len);
}

int stun_get_family(const struct stun_msg *m, enum stun_attr_index ai, uint8_t *family)
{
	if (!present(m, ai) || m->alen[ai] != 4)
		return -EINVAL;
	return family_of(stun_val(m, ai)[0], family);
}

int stun_get_channel(const struct stun_msg *m, uint16_t *ch)
{
	if (!present(m, STUN_AI_CHANNEL_NUMBER) || m->alen[STUN_AI_CHANNEL_NUMBER] != 4)
		return -EINVAL;
	*ch = be16(stun_val(m, STUN_AI_CHANNEL_NUMBER));
	return 0;
}

int stun_get_transport(const struct stun_msg *m, uint8_t *proto)
{
	if (!present(m, STUN_AI_REQUESTED_TRANSPORT) || m->alen[STUN_AI_REQUESTED_TRANSPORT] != 4)
		return -EINVAL;
	*proto = stun_val(m, STUN_AI_REQUESTED_TRANSPORT)[0];
	return 0;
}

int stun_get_even_port(const struct stun_msg *m, bool *reserve_next)
{
	if (!present(m, STUN_AI_EVEN_PORT) || m->alen[STUN_AI_EVEN_PORT] != 1)
		return -EINVAL;
	*reserve_next = stun_val(m, STUN_AI_EVEN_PORT)[0] & 0x80;
	return 0;
}

int stun_get_icmp(const struct stun_msg *m, uint8_t *type, uint16_t *code, uint32_t *data)
{
	const uint8_t *p = stun_val(m, STUN_AI_ICMP);

	if (!present(m, STUN_AI_ICMP) || m->alen[STUN_AI_ICMP] != 8)
		return -EINVAL;
	/* RFC 8656 18.14: 16 reserved bits, a 7-bit type, a 9-bit code, 32 bits of data */
	*type = (uint8_t)(be16(p + 2) >> 9);
	*code = be16(p + 2) & 0x1ff;
	*data = be32(p + 4);
	return 0;
}

int stun_get_unknown_list(const struct stun_msg *m, uint16_t *types, unsigned int max,
	unsigned int *n)
{
	const uint8_t *p = stun_val(m, STUN_AI_UNKNOWN_ATTRIBUTES);
	uint16_t len = m->alen[STUN_AI_UNKNOWN_ATTRIBUTES];

	if (!present(m, STUN_AI_UNKNOWN_ATTRIBUTES) || (len & 1))
		return -EINVAL;
	*n = len / 2u;
	for (unsigned int i = 0; i < *n && i < max; i++)
		types[i] = be16(p + 2 * i);
	return 0;
}

int stun_get_password_algorithms(const struct stun_msg *m, uint16_t *algs, unsigned int max,
	unsigned int *n)
{
	const uint8_t *p = stun_val(m, STUN_AI_PASSWORD_ALGORITHMS);
	uint32_t len = m->alen[STUN_AI_PASSWORD_ALGORITHMS], off = 0;

	if (!present(m, STUN_AI_PASSWORD_ALGORITHMS))
		return -EINVAL;
	*n = 0;
	/* each: algorithm (16 bits), parameters length (16 bits), parameters padded to 4 */
	while (off < len) {
		uint32_t plen;

		if (len - off < 4)
			return -EINVAL;
		plen = ((uint32_t)be16(p + off + 2) + 3) & ~3u;
		if (plen > len - off - 4)
			return -EINVAL;
		if (*n < max)
			algs[*n] = be16(p + off);
		(*n)++;
		off += 4 + plen;
	}
	return 0;
}

int stun_get_password_algorithm(const struct stun_msg *m, uint16_t *alg)
{
	const uint8_t *p = stun_val(m, STUN_AI_PASSWORD_ALGORITHM);
	uint16_t len = m->alen[STUN_AI_PASSWORD_ALGORITHM];

	if (!present(m, STUN_AI_PASSWORD_ALGORITHM) || len < 4 ||
		(((uint32_t)be16(p + 2) + 3) & ~3u) != len - 4u)
		return -EINVAL;
	*alg = be16(p);
	return 0;
}
