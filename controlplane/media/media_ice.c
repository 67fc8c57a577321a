/* ICE-lite connectivity checks answered (RFC 8445 lite agent, RFC 8489 short-term credentials):
 * parse a Binding request, authenticate it with the leg's ice-pwd, build the answer. Pure
 * functions over byte buffers; the media server owns the sockets, the legs and the timers. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "media_ice.h"

static int copy_ufrag(char *dst, const char *s, size_t n)
{
	if (n == 0 || n >= MICE_UFRAG_MAX || memchr(s, '\0', n))
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int mice_parse(const uint8_t *buf, size_t len, struct mice_check *c)
{
	struct stun_msg m;
	const char *user, *colon;
	size_t ulen;
	uint64_t tie = 0;

	if (stun_parse(buf, len, &m) < 0)
		return -EBADMSG;
	if (m.method != STUN_BINDING || m.cls != STUN_REQUEST)
		return -EINVAL;
	if (!stun_has(&m, STUN_AI_MESSAGE_INTEGRITY) ||
		stun_get_str(&m, STUN_AI_USERNAME, &user, &ulen) < 0)
		return -EINVAL;
	colon = memchr(user, ':', ulen);
	if (!colon)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	if (copy_ufrag(c->local_ufrag, user, (size_t)(colon - user)) < 0 ||
		copy_ufrag(c->remote_ufrag, colon + 1, ulen - (size_t)(colon - user) - 1) < 0)
		return -EINVAL;
	c->use_candidate = stun_has(&m, STUN_AI_USE_CANDIDATE);
	c->controlling = stun_get_u64(&m, STUN_AI_ICE_CONTROLLING, &tie) == 0;
	if (!c->controlling)
		c->controlled = stun_get_u64(&m, STUN_AI_ICE_CONTROLLED, &tie) == 0;
	c->tiebreaker = tie;
	if (stun_get_u32(&m, STUN_AI_PRIORITY, &c->priority) < 0)
		c->priority = 0;
	memcpy(c->tid, m.tid, STUN_TID_LEN);
	return 0;
}

int mice_key_init(struct stun_key *key, const char *local_pwd)
{
	uint8_t pw[256];
	int n = stun_short_term_key(local_pwd, pw, sizeof(pw));

	if (n < 0)
		return n;
	n = stun_key_init(key, STUN_MAC_SHA1, pw, (size_t)n);
	memset(pw, 0, sizeof(pw));
	return n;
}

/*
 * Which answer an authenticated check gets. RFC 8445 6.1.1: a lite agent facing a full one is
 * always the controlled agent, and 7.3.1.1 leaves a controlled agent that sees ICE-CONTROLLED
 * two outcomes: switch to controlling (tiebreaker >= the peer's) or answer 487 Role Conflict.
 * A lite agent cannot control (it runs no checks and nominates nothing), so it can only take
 * the second: 487, which makes the browser switch to controlling and check again. A request
 * with ICE-CONTROLLING (or, from an RFC 5245-era peer, neither) agrees with our role.
 */
static int answer_code(const struct stun_msg *m, const struct mice_check *c)
{
	int unknown = stun_unknown_answer(m);

	if (unknown)
		return unknown;
	if (c->controlled)
		return 487;
	return 0;
}

int mice_answer_key(const uint8_t *buf, size_t len, const struct mice_check *c,
	const struct stun_key *key, const struct stun_addr *from, uint8_t *out, size_t cap)
{
	struct stun_builder b;
	struct stun_msg m;
	int code, ret;

	if (stun_parse(buf, len, &m) < 0 || m.method != STUN_BINDING || m.cls != STUN_REQUEST ||
		memcmp(m.tid, c->tid, STUN_TID_LEN) != 0)
		return -EINVAL;
	/* A wrong FINGERPRINT is a corrupt or forged datagram: treated as unauthenticated. */
	if (m.fp_at && stun_check_fingerprint(&m) < 0)
		return -EACCES;
	ret = stun_check_integrity(&m, key);
	if (ret == -EBADMSG)
		return -EACCES;
	if (ret < 0)
		return -EINVAL;

	code = answer_code(&m, c);
	if (code < 0)
		return -EINVAL;
	stun_build_response(&b, out, cap, &m, code);
	if (code == 0)
		stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, from);
	stun_add_integrity(&b, key);
	stun_add_fingerprint(&b);
	return stun_build_end(&b);
}

int mice_answer(const uint8_t *buf, size_t len, const struct mice_check *c, const char *local_pwd,
	uint32_t from_ip, uint16_t from_port, uint8_t *out, size_t cap)
{
	struct stun_addr from = { .family = 4 };
	struct stun_key key;
	int ret;

	from.port = htons(from_port);
	wr32(from.ip, from_ip);
	ret = mice_key_init(&key, local_pwd);
	if (ret < 0)
		return -EINVAL;
	ret = mice_answer_key(buf, len, c, &key, &from, out, cap);
	stun_key_free(&key);
	return ret;
}
