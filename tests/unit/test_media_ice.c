/* The ICE-lite check answerer (controlplane/media/media_ice.c): RFC 5769's sample request,
 * browser-shaped checks answered and verified with the codec's own checks, role conflict,
 * and every kind of bad input refused without an answer. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media_ice.h"
#include "stun.h"
#include "unit.h"

static const char *pwd = "VOkJxbRl1RmTxUk/WvJxBt"; /* RFC 5769 2.1 */

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	unsigned int v;

	while (*h) {
		while (*h == ' ')
			h++;
		if (!*h || sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* RFC 5769 2.1 (it carries ICE-CONTROLLED) */
static const char *v_request =
	"00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
	"80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
	"00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36"
	"00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
	"00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2"
	"80 28 00 04 e5 7a 3b cf";

static const uint8_t tid1[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

enum { ROLE_CONTROLLING, ROLE_CONTROLLED, ROLE_NONE };

/* A check as Chromium sends it; @extra adds an attribute type (0 for none). */
static int browser_check(uint8_t *buf, size_t cap, const char *user, const char *pw, int role,
	bool use_candidate, uint16_t extra, bool with_mi)
{
	struct stun_builder b;
	struct stun_key k;

	CU_ASSERT_FATAL(stun_key_init(&k, STUN_MAC_SHA1, (const uint8_t *)pw, strlen(pw)) == 0);
	stun_build(&b, buf, cap, STUN_BINDING, STUN_REQUEST, tid1);
	stun_add_str(&b, STUN_ATTR_USERNAME, user);
	stun_add_u32(&b, 0xc057, 0x00010000); /* GOOG-NETWORK-INFO: optional, ignored */
	if (role == ROLE_CONTROLLING)
		stun_add_u64(&b, STUN_ATTR_ICE_CONTROLLING, 0x1122334455667788ULL);
	else if (role == ROLE_CONTROLLED)
		stun_add_u64(&b, STUN_ATTR_ICE_CONTROLLED, 0x1122334455667788ULL);
	if (use_candidate)
		stun_add(&b, STUN_ATTR_USE_CANDIDATE, NULL, 0);
	stun_add_u32(&b, STUN_ATTR_PRIORITY, 0x6e7f1eff);
	if (extra)
		stun_add_u32(&b, extra, 0);
	if (with_mi)
		stun_add_integrity(&b, &k);
	stun_add_fingerprint(&b);
	stun_key_free(&k);
	return stun_build_end(&b);
}

/* Parses @out as an answer to @req_tid and checks its authentication with @pw. */
static void check_answer(const uint8_t *out, int n, const uint8_t *req_tid, struct stun_msg *m)
{
	struct stun_key k;

	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, (size_t)n, m), 0);
	CU_ASSERT_EQUAL(m->method, STUN_BINDING);
	CU_ASSERT_EQUAL(memcmp(m->tid, req_tid, 12), 0);
	CU_ASSERT_FATAL(stun_key_init(&k, STUN_MAC_SHA1, (const uint8_t *)pwd, strlen(pwd)) == 0);
	CU_ASSERT_EQUAL(stun_check_integrity(m, &k), 0);
	CU_ASSERT_EQUAL(stun_check_fingerprint(m), 0);
	stun_key_free(&k);
}

static void test_rfc5769(void)
{
	uint8_t req[256], out[256];
	size_t n = unhex(v_request, req);
	struct mice_check c;
	struct stun_msg m;
	int code, r;
	const char *reason;
	size_t rl;

	CU_ASSERT_EQUAL_FATAL(n, 108);
	CU_ASSERT_EQUAL_FATAL(mice_parse(req, n, &c), 0);
	CU_ASSERT_STRING_EQUAL(c.local_ufrag, "evtj");
	CU_ASSERT_STRING_EQUAL(c.remote_ufrag, "h6vY");
	CU_ASSERT_EQUAL(c.priority, 0x6e0001ff);
	CU_ASSERT(c.controlled && !c.controlling && !c.use_candidate);
	CU_ASSERT_EQUAL(c.tiebreaker, 0x932ff9b151263b36ULL);
	CU_ASSERT_EQUAL(memcmp(c.tid, req + 8, 12), 0);

	/* it verifies; it says ICE-CONTROLLED, so a lite agent answers 487, authenticated */
	r = mice_answer(req, n, &c, pwd, htonl(0xc0000201), 32853, out, sizeof(out));
	check_answer(out, r, req + 8, &m);
	CU_ASSERT_EQUAL(m.cls, STUN_ERROR);
	CU_ASSERT_EQUAL(stun_get_error(&m, &code, &reason, &rl), 0);
	CU_ASSERT_EQUAL(code, 487);
	CU_ASSERT(!stun_has(&m, STUN_AI_XOR_MAPPED_ADDRESS));
	CU_ASSERT(r <= (int)n);

	CU_ASSERT_EQUAL(mice_answer(req, n, &c, "VOkJxbRl1RmTxUk/WvJxBr", htonl(0xc0000201), 32853,
				out, sizeof(out)),
		-EACCES);
}

static void test_success(void)
{
	uint8_t req[256], out[256];
	int n = browser_check(req, sizeof(req), "Ab3d:remoteUfrag+/", pwd, ROLE_CONTROLLING, false,
		0, true);
	struct mice_check c;
	struct stun_msg m;
	struct stun_addr a;
	int r;

	CU_ASSERT_EQUAL_FATAL(mice_parse(req, (size_t)n, &c), 0);
	CU_ASSERT_STRING_EQUAL(c.local_ufrag, "Ab3d");
	CU_ASSERT_STRING_EQUAL(c.remote_ufrag, "remoteUfrag+/");
	CU_ASSERT(c.controlling && !c.controlled && !c.use_candidate);
	CU_ASSERT_EQUAL(c.tiebreaker, 0x1122334455667788ULL);
	CU_ASSERT_EQUAL(c.priority, 0x6e7f1eff);

	r = mice_answer(req, (size_t)n, &c, pwd, htonl(0xc0000201), 32853, out, sizeof(out));
	check_answer(out, r, tid1, &m);
	CU_ASSERT_EQUAL(m.cls, STUN_SUCCESS);
	CU_ASSERT_EQUAL(r, 64); /* 20 + XOR-MAPPED-ADDRESS 12 + MI 24 + FINGERPRINT 8 */
	CU_ASSERT(r <= n);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&m, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(a.family, 4);
	CU_ASSERT_EQUAL(a.port, htons(32853));
	CU_ASSERT(a.ip[0] == 192 && a.ip[1] == 0 && a.ip[2] == 2 && a.ip[3] == 1);

	/* too small a buffer */
	CU_ASSERT_EQUAL(mice_answer(req, (size_t)n, &c, pwd, htonl(0xc0000201), 32853, out, 40),
		-ENOSPC);
}

static void test_use_candidate_and_roles(void)
{
	uint8_t req[256], out[256];
	struct mice_check c;
	struct stun_msg m;
	int n, r;

	n = browser_check(req, sizeof(req), "abcd:efgh", pwd, ROLE_CONTROLLING, true, 0, true);
	CU_ASSERT_EQUAL_FATAL(mice_parse(req, (size_t)n, &c), 0);
	CU_ASSERT(c.use_candidate && c.controlling);
	r = mice_answer(req, (size_t)n, &c, pwd, htonl(0x0a000001), 5000, out, sizeof(out));
	check_answer(out, r, tid1, &m);
	CU_ASSERT_EQUAL(m.cls, STUN_SUCCESS);

	/* an RFC 5245-era peer that names no role: no conflict can be seen, answered */
	n = browser_check(req, sizeof(req), "abcd:efgh", pwd, ROLE_NONE, false, 0, true);
	CU_ASSERT_EQUAL_FATAL(mice_parse(req, (size_t)n, &c), 0);
	CU_ASSERT(!c.use_candidate && !c.controlling && !c.controlled);
	r = mice_answer(req, (size_t)n, &c, pwd, htonl(0x0a000001), 5000, out, sizeof(out));
	check_answer(out, r, tid1, &m);
	CU_ASSERT_EQUAL(m.cls, STUN_SUCCESS);

	/* both controlled: 487 */
	n = browser_check(req, sizeof(req), "abcd:efgh", pwd, ROLE_CONTROLLED, false, 0, true);
	CU_ASSERT_EQUAL_FATAL(mice_parse(req, (size_t)n, &c), 0);
	CU_ASSERT(c.controlled);
	r = mice_answer(req, (size_t)n, &c, pwd, htonl(0x0a000001), 5000, out, sizeof(out));
	check_answer(out, r, tid1, &m);
	CU_ASSERT_EQUAL(m.cls, STUN_ERROR);
}

static void test_ipv6_and_unknown(void)
{
	uint8_t req[256], out[256];
	struct stun_addr from = { .family = 6, .port = htons(40000) }, a;
	struct stun_key k;
	struct mice_check c;
	struct stun_msg m;
	uint16_t types[4];
	unsigned int nt = 0;
	int n, r, code;
	const char *reason;
	size_t rl;

	inet_pton(AF_INET6, "2001:db8::7", from.ip);
	CU_ASSERT_FATAL(mice_key_init(&k, pwd) == 0);
	n = browser_check(req, sizeof(req), "abcd:efgh", pwd, ROLE_CONTROLLING, false, 0, true);
	CU_ASSERT_EQUAL_FATAL(mice_parse(req, (size_t)n, &c), 0);
	r = mice_answer_key(req, (size_t)n, &c, &k, &from, out, sizeof(out));
	check_answer(out, r, tid1, &m);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&m, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT(a.family == 6 && a.port == from.port && !memcmp(a.ip, from.ip, 16));

	/* an unknown comprehension-required attribute in an authenticated check: 420 */
	n = browser_check(req, sizeof(req), "abcd:efgh", pwd, ROLE_CONTROLLING, false, 0x0031,
		true);
	CU_ASSERT_EQUAL_FATAL(mice_parse(req, (size_t)n, &c), 0);
	r = mice_answer_key(req, (size_t)n, &c, &k, &from, out, sizeof(out));
	check_answer(out, r, tid1, &m);
	CU_ASSERT_EQUAL(m.cls, STUN_ERROR);
	CU_ASSERT_EQUAL(stun_get_error(&m, &code, &reason, &rl), 0);
	CU_ASSERT_EQUAL(code, 420);
	CU_ASSERT_EQUAL(stun_get_unknown_list(&m, types, 4, &nt), 0);
	CU_ASSERT(nt == 1 && types[0] == 0x0031);
	stun_key_free(&k);
}

/* Wrong credentials or a tampered datagram: -EACCES and nothing written. */
static void test_unauthenticated(void)
{
	uint8_t req[256], bad[256], out[256], untouched[256];
	struct mice_check c;
	int n;

	memset(out, 0xa5, sizeof(out));
	memcpy(untouched, out, sizeof(out));
	n = browser_check(req, sizeof(req), "abcd:efgh", "someone else's password12",
		ROLE_CONTROLLING, true, 0, true);
	CU_ASSERT_EQUAL_FATAL(mice_parse(req, (size_t)n, &c), 0);
	CU_ASSERT_EQUAL(mice_answer(req, (size_t)n, &c, pwd, 1, 2, out, sizeof(out)), -EACCES);
	CU_ASSERT_EQUAL(memcmp(out, untouched, sizeof(out)), 0);

	/* the right password, then one bit flipped in USERNAME: integrity fails (the fingerprint
	 * is recomputed so that only the MAC can catch it) */
	n = browser_check(req, sizeof(req), "abcd:efgh", pwd, ROLE_CONTROLLING, true, 0, true);
	memcpy(bad, req, (size_t)n);
	bad[24] ^= 0x01; /* 'a' of the USERNAME value */
	{
		uint32_t crc = stun_crc32(0, bad, (size_t)n - 8) ^ STUN_FINGERPRINT_XOR;

		bad[n - 4] = crc >> 24;
		bad[n - 3] = crc >> 16;
		bad[n - 2] = crc >> 8;
		bad[n - 1] = crc;
	}
	CU_ASSERT_EQUAL_FATAL(mice_parse(bad, (size_t)n, &c), 0);
	CU_ASSERT_EQUAL(mice_answer(bad, (size_t)n, &c, pwd, 1, 2, out, sizeof(out)), -EACCES);

	/* a wrong FINGERPRINT */
	memcpy(bad, req, (size_t)n);
	bad[n - 1] ^= 0xff;
	CU_ASSERT_EQUAL_FATAL(mice_parse(bad, (size_t)n, &c), 0);
	CU_ASSERT_EQUAL(mice_answer(bad, (size_t)n, &c, pwd, 1, 2, out, sizeof(out)), -EACCES);
	CU_ASSERT_EQUAL(memcmp(out, untouched, sizeof(out)), 0);

	/* answered against another transaction's parse */
	CU_ASSERT_EQUAL_FATAL(mice_parse(req, (size_t)n, &c), 0);
	c.tid[0] ^= 1;
	CU_ASSERT_EQUAL(mice_answer(req, (size_t)n, &c, pwd, 1, 2, out, sizeof(out)), -EINVAL);
}

static void test_malformed(void)
{
	uint8_t req[256], buf[512];
	struct mice_check c;
	struct stun_builder b;
	int n;

	/* truncated at every length */
	n = browser_check(req, sizeof(req), "abcd:efgh", pwd, ROLE_CONTROLLING, true, 0, true);
	for (int i = 0; i < n; i++)
		CU_ASSERT(mice_parse(req, (size_t)i, &c) < 0);

	/* not STUN: DTLS, RTP, zeros */
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(mice_parse(buf, 100, &c), -EBADMSG);
	buf[0] = 22;
	CU_ASSERT_EQUAL(mice_parse(buf, 100, &c), -EBADMSG);
	buf[0] = 0x80;
	CU_ASSERT_EQUAL(mice_parse(buf, 100, &c), -EBADMSG);

	/* garbage: never accepted, never a crash (ASan watches the reads) */
	srand(13);
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(rand() % 200);

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		if (i & 1) { /* half of them with a plausible header */
			memcpy(buf, req, len < 20 ? len : 20);
			if (len >= 4) {
				buf[2] = (uint8_t)((len - 20) >> 8);
				buf[3] = (uint8_t)((len - 20) & 0xfc);
			}
		}
		if (mice_parse(buf, len, &c) == 0) {
			uint8_t out[256];

			CU_ASSERT(mice_answer(buf, len, &c, pwd, 1, 2, out, sizeof(out)) < 0);
		}
	}

	/* without MESSAGE-INTEGRITY */
	n = browser_check(req, sizeof(req), "abcd:efgh", pwd, ROLE_CONTROLLING, true, 0, false);
	CU_ASSERT_EQUAL(mice_parse(req, (size_t)n, &c), -EINVAL);
	/* USERNAME without ':', with an empty side, with a ufrag too long */
	n = browser_check(req, sizeof(req), "abcdefgh", pwd, ROLE_CONTROLLING, true, 0, true);
	CU_ASSERT_EQUAL(mice_parse(req, (size_t)n, &c), -EINVAL);
	n = browser_check(req, sizeof(req), ":efgh", pwd, ROLE_CONTROLLING, true, 0, true);
	CU_ASSERT_EQUAL(mice_parse(req, (size_t)n, &c), -EINVAL);
	n = browser_check(req, sizeof(req), "abcd:", pwd, ROLE_CONTROLLING, true, 0, true);
	CU_ASSERT_EQUAL(mice_parse(req, (size_t)n, &c), -EINVAL);
	{
		char user[200];

		memset(user, 'x', sizeof(user));
		user[70] = ':';
		user[sizeof(user) - 1] = '\0';
		n = browser_check(req, sizeof(req), user, pwd, ROLE_CONTROLLING, true, 0, true);
		CU_ASSERT_EQUAL(mice_parse(req, (size_t)n, &c), -EINVAL);
	}
	/* a Binding success response, an indication, an Allocate request: not checks */
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_SUCCESS, tid1);
	stun_add_str(&b, STUN_ATTR_USERNAME, "abcd:efgh");
	stun_add(&b, STUN_ATTR_MESSAGE_INTEGRITY, req, 20);
	CU_ASSERT_EQUAL(mice_parse(buf, (size_t)stun_build_end(&b), &c), -EINVAL);
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_INDICATION, tid1);
	CU_ASSERT_EQUAL(mice_parse(buf, (size_t)stun_build_end(&b), &c), -EINVAL);
	stun_build(&b, buf, sizeof(buf), STUN_ALLOCATE, STUN_REQUEST, tid1);
	stun_add_str(&b, STUN_ATTR_USERNAME, "abcd:efgh");
	stun_add(&b, STUN_ATTR_MESSAGE_INTEGRITY, req, 20);
	CU_ASSERT_EQUAL(mice_parse(buf, (size_t)stun_build_end(&b), &c), -EINVAL);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "RFC 5769 2.1 request: parsed, verified, 487 as a lite agent", test_rfc5769 },
		{ "a browser's check answered: XOR-MAPPED-ADDRESS, integrity, fingerprint",
			test_success },
		{ "USE-CANDIDATE seen; roles: controlling, none, controlled (487)",
			test_use_candidate_and_roles },
		{ "IPv6 sender; unknown required attribute gets 420", test_ipv6_and_unknown },
		{ "wrong password, tampered bytes, wrong fingerprint: -EACCES, nothing written",
			test_unauthenticated },
		{ "truncated, garbage, not a check: refused", test_malformed },
		{ NULL, NULL },
	};

	return unit_run("media_ice", tests);
}
