/* The STUN/TURN codec against the published vectors (RFC 5769, RFC 8489 B.1 as corrected
 * by erratum 6268), byte for byte both ways; round trips for every attribute; every class of
 * malformed input answered the right way; the fast path agreeing with the full parser. One
 * CUnit suite per area. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"
#include <CUnit/Basic.h>

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	while (*h) {
		unsigned int v;

		while (*h == ' ' || *h == '\n')
			h++;
		if (!*h || sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

/* RFC 5769 2.1 - 2.4 (transcribed from the RFC) */
static const char *v_request =
	"00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
	"80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
	"00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36"
	"00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
	"00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2"
	"80 28 00 04 e5 7a 3b cf";
static const char *v_ipv4 =
	"01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
	"80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
	"00 20 00 08 00 01 a1 47 e1 12 a6 43"
	"00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7"
	"80 28 00 04 c0 7d 4c 96";
static const char *v_ipv6 =
	"01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
	"80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
	"00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"
	"00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41"
	"80 28 00 04 c8 fb 0b 4c";
static const char *v_longterm =
	"00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e"
	"00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00"
	"00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41"
	"00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00"
	"00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66";
/* RFC 8489 B.1 with erratum 6268 (PASSWORD-ALGORITHM SHA-256) */
static const char *v_8489 =
	"00 01 00 90 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e"
	"00 1e 00 20 4a 3c f3 8f ef 69 92 bd a9 52 c6 78 04 17 da 0f 24 81 94 15 56 9e 60 b2 05 c4 6e 41 40 7f 17 04"
	"00 15 00 29 6f 62 4d 61 74 4a 6f 73 32 41 41 41 43 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39"
	"46 53 54 76 79 36 34 73 41 00 00 00"
	"00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00"
	"00 1d 00 04 00 02 00 00"
	"00 1c 00 20 b5 c7 bf 00 5b 6c 52 a2 1c 51 c5 e8 92 f8 19 24 13 62 96 cb 92 7c 43 14 93 09 27 8c c6 51 8e 65";

static const char *short_pw = "VOkJxbRl1RmTxUk/WvJxBt";
static const char *lt_user =
	"\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
/* "The<U+00AD>M<U+00AA>tr<U+2168>": SASLprep makes it "TheMatrIX" */
static const char *lt_pass = "The\xc2\xadM\xc2\xaatr\xe2\x85\xa8";

static void short_key(struct stun_key *k, const char *pw)
{
	CU_ASSERT_EQUAL_FATAL(stun_key_init(k, STUN_MAC_SHA1, (const uint8_t *)pw, strlen(pw)), 0);
}

static void test_rfc5769_request(void)
{
	uint8_t buf[256], out[256], tid[12];
	size_t n = unhex(v_request, buf);
	struct stun_msg m;
	struct stun_key k, wrong;
	struct stun_builder b;
	const char *s;
	size_t sl;
	uint32_t prio;
	uint64_t tie;

	CU_ASSERT_EQUAL_FATAL(n, 108);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, n, &m), 0);
	CU_ASSERT_EQUAL(m.method, STUN_BINDING);
	CU_ASSERT_EQUAL(m.cls, STUN_REQUEST);
	CU_ASSERT_EQUAL(m.len, 108);
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_SOFTWARE, &s, &sl), 0);
	CU_ASSERT(sl == 16 && !memcmp(s, "STUN test client", 16));
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_USERNAME, &s, &sl), 0);
	CU_ASSERT(sl == 9 && !memcmp(s, "evtj:h6vY", 9));
	CU_ASSERT_EQUAL(stun_get_u32(&m, STUN_AI_PRIORITY, &prio), 0);
	CU_ASSERT_EQUAL(prio, 0x6e0001ff);
	CU_ASSERT_EQUAL(stun_get_u64(&m, STUN_AI_ICE_CONTROLLED, &tie), 0);
	CU_ASSERT_EQUAL(tie, 0x932ff9b151263b36ULL);
	CU_ASSERT_EQUAL(m.n_unknown, 0);
	short_key(&k, short_pw);
	short_key(&wrong, "VOkJxbRl1RmTxUk/WvJxBr");
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), 0);
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &wrong), -EBADMSG);
	CU_ASSERT_EQUAL(stun_check_fingerprint(&m), 0);

	/* built again, the same bytes */
	memcpy(tid, buf + 8, 12);
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_REQUEST, tid);
	stun_add_str(&b, STUN_ATTR_SOFTWARE, "STUN test client");
	stun_add_u32(&b, STUN_ATTR_PRIORITY, 0x6e0001ff);
	stun_add_u64(&b, STUN_ATTR_ICE_CONTROLLED, 0x932ff9b151263b36ULL);
	stun_add_pad(&b, STUN_ATTR_USERNAME, "evtj:h6vY", 9, ' ');
	stun_add_integrity(&b, &k);
	stun_add_fingerprint(&b);
	CU_ASSERT_EQUAL(stun_build_end(&b), 108);
	CU_ASSERT_EQUAL(memcmp(out, buf, 108), 0);
	stun_key_free(&k);
	stun_key_free(&wrong);
}

static void check_response(const char *hex, size_t want_len, const struct stun_addr *want)
{
	uint8_t buf[256], out[256], tid[12];
	size_t n = unhex(hex, buf);
	struct stun_msg m;
	struct stun_addr a;
	struct stun_key k;
	struct stun_builder b;

	CU_ASSERT_EQUAL_FATAL(n, want_len);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, n, &m), 0);
	CU_ASSERT_EQUAL(m.cls, STUN_SUCCESS);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&m, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(a.family, want->family);
	CU_ASSERT_EQUAL(a.port, want->port);
	CU_ASSERT_EQUAL(memcmp(a.ip, want->ip, want->family == 4 ? 4 : 16), 0);
	short_key(&k, short_pw);
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), 0);
	CU_ASSERT_EQUAL(stun_check_fingerprint(&m), 0);
	memcpy(tid, buf + 8, 12);
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_SUCCESS, tid);
	stun_add_pad(&b, STUN_ATTR_SOFTWARE, "test vector", 11, ' ');
	stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, want);
	stun_add_integrity(&b, &k);
	stun_add_fingerprint(&b);
	CU_ASSERT_EQUAL(stun_build_end(&b), (int)want_len);
	CU_ASSERT_EQUAL(memcmp(out, buf, want_len), 0);
	stun_key_free(&k);
}

static void test_rfc5769_responses(void)
{
	struct stun_addr v4 = { .family = 4, .port = htons(32853), .ip = { 192, 0, 2, 1 } };
	struct stun_addr v6 = { .family = 6, .port = htons(32853) };

	inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", v6.ip);
	check_response(v_ipv4, 80, &v4);
	check_response(v_ipv6, 92, &v6);
}

static void test_rfc5769_long_term(void)
{
	uint8_t buf[256], out[256], key[16], tid[12];
	size_t n = unhex(v_longterm, buf);
	struct stun_msg m;
	struct stun_key k;
	struct stun_builder b;
	const char *s;
	size_t sl;
	char prepped[64];

	CU_ASSERT_EQUAL_FATAL(n, 116);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, n, &m), 0);
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_USERNAME, &s, &sl), 0);
	CU_ASSERT(sl == strlen(lt_user) && !memcmp(s, lt_user, sl));
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_NONCE, &s, &sl), 0);
	CU_ASSERT(sl == 28 && !memcmp(s, "f//499k954d6OL34oL9FSTvy64sA", 28));
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_REALM, &s, &sl), 0);
	CU_ASSERT(sl == 11 && !memcmp(s, "example.org", 11));
	CU_ASSERT_EQUAL(stun_saslprep(lt_pass, prepped, sizeof(prepped)), 0);
	CU_ASSERT_STRING_EQUAL(prepped, "TheMatrIX");
	CU_ASSERT_EQUAL_FATAL(stun_long_term_key(lt_user, "example.org", lt_pass, key), 0);
	CU_ASSERT_EQUAL_FATAL(stun_key_init(&k, STUN_MAC_SHA1, key, 16), 0);
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), 0);
	CU_ASSERT_EQUAL(stun_check_fingerprint(&m), -ENOENT);
	memcpy(tid, buf + 8, 12);
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_REQUEST, tid);
	stun_add_str(&b, STUN_ATTR_USERNAME, lt_user);
	stun_add_str(&b, STUN_ATTR_NONCE, "f//499k954d6OL34oL9FSTvy64sA");
	stun_add_str(&b, STUN_ATTR_REALM, "example.org");
	stun_add_integrity(&b, &k);
	CU_ASSERT_EQUAL(stun_build_end(&b), 116);
	CU_ASSERT_EQUAL(memcmp(out, buf, 116), 0);
	stun_key_free(&k);
}

static void test_rfc8489_sha256_userhash(void)
{
	uint8_t buf[256], out[256], key[32], uh[32], tid[12];
	size_t n = unhex(v_8489, buf);
	struct stun_msg m;
	struct stun_key k;
	struct stun_builder b;
	const char *nonce = "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA";
	uint8_t alg[4] = { 0, 2, 0, 0 };

	CU_ASSERT_EQUAL_FATAL(n, 164);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, n, &m), 0);
	CU_ASSERT_EQUAL(stun_userhash(lt_user, "example.org", uh), 0);
	CU_ASSERT_EQUAL(m.alen[STUN_AI_USERHASH], 32);
	CU_ASSERT_EQUAL(memcmp(stun_val(&m, STUN_AI_USERHASH), uh, 32), 0);
	CU_ASSERT_EQUAL_FATAL(stun_long_term_key_sha256(lt_user, "example.org", lt_pass, key), 0);
	CU_ASSERT_EQUAL_FATAL(stun_key_init(&k, STUN_MAC_SHA256, key, 32), 0);
	CU_ASSERT_EQUAL(stun_check_integrity_sha256(&m, &k), 0);
	memcpy(tid, buf + 8, 12);
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_REQUEST, tid);
	stun_add(&b, STUN_ATTR_USERHASH, uh, 32);
	stun_add_str(&b, STUN_ATTR_NONCE, nonce);
	stun_add_str(&b, STUN_ATTR_REALM, "example.org");
	stun_add(&b, STUN_ATTR_PASSWORD_ALGORITHM, alg, 4);
	stun_add_integrity_sha256(&b, &k);
	CU_ASSERT_EQUAL(stun_build_end(&b), 164);
	CU_ASSERT_EQUAL(memcmp(out, buf, 164), 0);
	stun_key_free(&k);
}

static void test_round_trips(void)
{
	uint8_t out[1500], tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, data[300];
	struct stun_addr relay = { .family = 4, .port = htons(49152), .ip = { 198, 18, 10, 1 } };
	struct stun_addr peer6 = { .family = 6, .port = htons(7000) };
	struct stun_addr peers[3], a;
	uint16_t unknown[3] = { 0x0031, 0x0032, 0x7fff }, ch = 0;
	struct stun_builder b;
	struct stun_msg m;
	struct stun_key k;
	const char *s;
	size_t sl;
	int code, len;
	uint32_t v;
	uint8_t proto;

	inet_pton(AF_INET6, "2001:db8::7", peer6.ip);
	for (int i = 0; i < 3; i++)
		peers[i] = (struct stun_addr){ .family = 4,
			.port = htons(7000 + i),
			.ip = { 198, 18, 200, (uint8_t)i } };
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	short_key(&k, "secret");

	stun_build(&b, out, sizeof(out), STUN_ALLOCATE, STUN_ERROR, tid);
	stun_add_error(&b, 420, "Unknown Attribute");
	stun_add_unknown(&b, unknown, 3);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, &relay);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peers[0]);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peers[1]);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer6);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 600);
	stun_add_transport(&b, 17);
	stun_add_channel(&b, 0x4abc);
	stun_add_even_port(&b, true);
	stun_add(&b, STUN_ATTR_DATA, data, 257);
	stun_add(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	stun_add_str(&b, STUN_ATTR_SOFTWARE, "edge");
	stun_add_addr(&b, STUN_ATTR_ALTERNATE_SERVER, &relay);
	stun_add_integrity(&b, &k);
	stun_add_fingerprint(&b);
	len = stun_build_end(&b);
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, (size_t)len, &m), 0);
	CU_ASSERT_EQUAL(m.method, STUN_ALLOCATE);
	CU_ASSERT_EQUAL(m.cls, STUN_ERROR);
	CU_ASSERT_EQUAL(stun_get_error(&m, &code, &s, &sl), 0);
	CU_ASSERT_EQUAL(code, 420);
	CU_ASSERT(sl == 17 && !memcmp(s, "Unknown Attribute", 17));
	CU_ASSERT_EQUAL(m.alen[STUN_AI_UNKNOWN_ATTRIBUTES], 6);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&m, STUN_AI_XOR_RELAYED_ADDRESS, &a), 0);
	CU_ASSERT(a.family == 4 && a.port == relay.port && !memcmp(a.ip, relay.ip, 4));
	CU_ASSERT_EQUAL(m.n_peers, 3);
	CU_ASSERT_EQUAL(stun_get_peer(&m, 1, &a), 0);
	CU_ASSERT(a.port == peers[1].port && !memcmp(a.ip, peers[1].ip, 4));
	CU_ASSERT_EQUAL(stun_get_peer(&m, 2, &a), 0);
	CU_ASSERT(a.family == 6 && !memcmp(a.ip, peer6.ip, 16));
	CU_ASSERT_EQUAL(stun_get_peer(&m, 3, &a), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_u32(&m, STUN_AI_LIFETIME, &v), 0);
	CU_ASSERT_EQUAL(v, 600);
	CU_ASSERT_EQUAL(stun_get_transport(&m, &proto), 0);
	CU_ASSERT_EQUAL(proto, 17);
	CU_ASSERT_EQUAL(stun_get_channel(&m, &ch), 0);
	CU_ASSERT_EQUAL(ch, 0x4abc);
	CU_ASSERT_EQUAL(stun_val(&m, STUN_AI_EVEN_PORT)[0], 0x80);
	CU_ASSERT_EQUAL(m.alen[STUN_AI_DATA], 257);
	CU_ASSERT_EQUAL(memcmp(stun_val(&m, STUN_AI_DATA), data, 257), 0);
	CU_ASSERT(stun_has(&m, STUN_AI_DONT_FRAGMENT));
	CU_ASSERT_EQUAL(stun_get_addr(&m, STUN_AI_ALTERNATE_SERVER, &a), 0);
	CU_ASSERT(a.port == relay.port && !memcmp(a.ip, relay.ip, 4));
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), 0);
	CU_ASSERT_EQUAL(stun_check_fingerprint(&m), 0);
	/* integrity over any modified byte fails */
	for (int i = 0; i < len - 28; i += 7) {
		out[i] ^= 0x40;
		if (stun_parse(out, (size_t)len, &m) == 0)
			CU_ASSERT_NOT_EQUAL(stun_check_integrity(&m, &k), 0);
		out[i] ^= 0x40;
	}
	/* every method and class survives the type encoding */
	for (uint16_t meth = 1; meth <= 0xfff; meth += 37)
		for (uint8_t cls = 0; cls < 4; cls++) {
			if ((meth == STUN_SEND || meth == STUN_DATA) && cls != STUN_INDICATION)
				continue;
			stun_build(&b, out, sizeof(out), meth, cls, tid);
			CU_ASSERT_EQUAL_FATAL(stun_parse(out, (size_t)stun_build_end(&b), &m), 0);
			CU_ASSERT(m.method == meth && m.cls == cls);
		}
	stun_key_free(&k);
}

static void test_malformed(void)
{
	uint8_t buf[256], tid[12] = { 0 };
	size_t n = unhex(v_request, buf);
	struct stun_builder b;
	struct stun_msg m;
	struct stun_key k;

	CU_ASSERT_EQUAL(stun_parse(buf, 19, &m), -STUN_E_SHORT);    /* truncated header */
	CU_ASSERT_EQUAL(stun_parse(buf, n - 4, &m), -STUN_E_SHORT); /* shorter than its length */
	buf[4] ^= 1;
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_NOT_STUN); /* bad cookie */
	buf[4] ^= 1;
	buf[0] |= 0x80;
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_NOT_STUN);	     /* top bits */
	CU_ASSERT_EQUAL(stun_parse_error_code(-STUN_E_NOT_STUN, buf, n), 0); /* silently dropped */
	buf[0] &= 0x3f;
	buf[3] = 0x57;
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_LENGTH); /* not a multiple of 4 */
	CU_ASSERT_EQUAL(stun_parse_error_code(-STUN_E_LENGTH, buf, n), 400); /* a request: 400 */
	{ /* a Send "request": no response type exists for it, so no answer */
		uint8_t send_req[20] = { 0x00, 0x06, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };

		CU_ASSERT_EQUAL(stun_parse(send_req, 20, &m), -STUN_E_TYPE);
		CU_ASSERT_EQUAL(stun_parse_error_code(-STUN_E_TYPE, send_req, 20), 0);
		CU_ASSERT_EQUAL(stun_parse_error_code(-STUN_E_LENGTH, send_req, 20), 0);
		send_req[1] = 0x07; /* Data */
		CU_ASSERT_EQUAL(stun_parse_error_code(-STUN_E_ATTR, send_req, 20), 0);
		send_req[1] = 0x03; /* Allocate: a malformed one is answered */
		CU_ASSERT_EQUAL(stun_parse_error_code(-STUN_E_ATTR, send_req, 20), 400);
	}
	buf[3] = 0x58;
	buf[22] = 0x00, buf[23] = 0x60; /* SOFTWARE claims 96 bytes */
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_ATTR);
	buf[23] = 0x10;
	buf[103] = 0x05; /* FINGERPRINT of 5 bytes: its padding runs past the end */
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_ATTR);
	buf[103] = 0x04;
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), 0);
	buf[102] = 0xff, buf[103] = 0xff; /* 0xffff: its padding would wrap a 16-bit length */
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_ATTR);
	buf[102] = 0x00, buf[103] = 0x04;
	/* wrong FINGERPRINT */
	n = unhex(v_request, buf);
	buf[107] ^= 1;
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), 0);
	CU_ASSERT_EQUAL(stun_check_fingerprint(&m), -EBADMSG);
	/* integrity over a modified byte */
	n = unhex(v_request, buf);
	buf[30] ^= 1;
	short_key(&k, short_pw);
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), 0);
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), -EBADMSG);
	/* zero-length message */
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	CU_ASSERT_EQUAL(stun_parse(buf, (size_t)stun_build_end(&b), &m), 0);
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), -ENOENT);
	/* Send as a request is no TURN message */
	stun_build(&b, buf, sizeof(buf), STUN_SEND, STUN_REQUEST, tid);
	CU_ASSERT_EQUAL(stun_parse(buf, 20, &m), -STUN_E_TYPE);
	/* unknown comprehension-required attributes collected once each; optional ones not */
	stun_build(&b, buf, sizeof(buf), STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_add(&b, 0x0031, "ab", 2);
	stun_add(&b, 0x0031, "cd", 2);
	stun_add(&b, 0x7777, NULL, 0);
	stun_add(&b, 0xc001, "x", 1);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)stun_build_end(&b), &m), 0);
	CU_ASSERT_EQUAL(m.n_unknown, 2);
	CU_ASSERT(m.unknown[0] == 0x0031 && m.unknown[1] == 0x7777);
	/* duplicates: the first counts; after MESSAGE-INTEGRITY only FINGERPRINT counts */
	stun_build(&b, buf, sizeof(buf), STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 10);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 20);
	stun_add_integrity(&b, &k);
	stun_add_str(&b, STUN_ATTR_REALM, "late");
	stun_add(&b, 0x0033, NULL, 0);
	{
		uint32_t v;
		int len = stun_build_end(&b);

		CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)len, &m), 0);
		CU_ASSERT_EQUAL(stun_get_u32(&m, STUN_AI_LIFETIME, &v), 0);
		CU_ASSERT_EQUAL(v, 10);
		CU_ASSERT_FALSE(stun_has(&m, STUN_AI_REALM));
		CU_ASSERT_EQUAL(m.n_unknown, 0);
	}
	/* a maximal message fills the buffer; one byte less does not fit */
	{
		static uint8_t big[65535 + 20], val[65000];

		stun_build(&b, big, sizeof(big), STUN_BINDING, STUN_INDICATION, tid);
		CU_ASSERT_EQUAL(stun_add(&b, STUN_ATTR_DATA, val, 65000), 0);
		CU_ASSERT_EQUAL_FATAL(stun_parse(big, (size_t)stun_build_end(&b), &m), 0);
		CU_ASSERT_EQUAL(m.alen[STUN_AI_DATA], 65000);
		stun_build(&b, big, 100, STUN_BINDING, STUN_INDICATION, tid);
		CU_ASSERT_EQUAL(stun_add(&b, STUN_ATTR_DATA, val, 77), -ENOSPC);
		CU_ASSERT_EQUAL(stun_build_end(&b), -ENOSPC);
	}
	/* bad addresses and errors are refused */
	stun_build(&b, buf, sizeof(buf), STUN_ALLOCATE, STUN_SUCCESS, tid);
	stun_add(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, "\x00\x03\x00\x00\x00\x00\x00\x00", 8);
	stun_add(&b, STUN_ATTR_ERROR_CODE, "\x00\x00\x09\x63", 4);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)stun_build_end(&b), &m), 0);
	{
		struct stun_addr a;
		int code;
		const char *r;
		size_t rl;

		CU_ASSERT_EQUAL(stun_get_xor_addr(&m, STUN_AI_XOR_RELAYED_ADDRESS, &a), -EINVAL);
		CU_ASSERT_EQUAL(stun_get_error(&m, &code, &r, &rl), -EINVAL);
	}
	stun_key_free(&k);
}

static void test_credentials(void)
{
	char pw[64], out[64];
	uint8_t key[16];
	static const uint8_t want[16] = { 0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5, 0x82, 0xfb, 0x4c,
		0x04, 0x4c, 0x45, 0x6b, 0xdc, 0x40, 0xeb };

	/* MD5("user:realm:pass"), checked against a value computed independently */
	CU_ASSERT_EQUAL(stun_long_term_key("user", "realm", "pass", key), 0);
	CU_ASSERT_EQUAL(memcmp(key, want, 16), 0);
	/* TURN REST API: base64(HMAC-SHA1(secret, username)) */
	CU_ASSERT_EQUAL(stun_rest_password("north", "1700000000:alice", pw, sizeof(pw)), 0);
	CU_ASSERT_EQUAL(strlen(pw), 28);
	CU_ASSERT_EQUAL(stun_rest_password("north", "1700000000:alice", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(pw, out);
	CU_ASSERT_EQUAL(stun_rest_password("south", "1700000000:alice", out, sizeof(out)), 0);
	CU_ASSERT_STRING_NOT_EQUAL(pw, out);
	CU_ASSERT_EQUAL(stun_rest_check_expiry("1700000000:alice", 16, 1699999999), 0);
	CU_ASSERT_EQUAL(stun_rest_check_expiry("1700000000:alice", 16, 1700000000), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(stun_rest_check_expiry("1700000000", 10, 1600000000), 0);
	CU_ASSERT_EQUAL(stun_rest_check_expiry("alice:1700000000", 16, 0), -EINVAL);
	CU_ASSERT_EQUAL(stun_rest_check_expiry("17x:alice", 9, 0), -EINVAL);
	CU_ASSERT_EQUAL(stun_saslprep("bad\x01word", out, sizeof(out)), -EINVAL);
}

/* Every attribute of RFC 8489, 8656, 6062, 8445 and 7635 through its builder and getter. */
static void test_every_attribute(void)
{
	static uint8_t out[2048];
	uint8_t tid[12] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
		0xac };
	struct stun_addr mapped6 = { .family = 6, .port = htons(3478) },
			 alt = { .family = 4, .port = htons(3479), .ip = { 192, 0, 2, 9 } }, a;
	uint16_t algs[2] = { STUN_PW_MD5, STUN_PW_SHA256 }, got[4], alg;
	uint8_t userhash[32], fam, icmp_type;
	struct stun_builder b;
	struct stun_msg m;
	struct stun_key k1, k256;
	unsigned int n;
	const char *s;
	size_t sl;
	uint32_t v32, icmp_data;
	uint64_t v64;
	uint16_t icmp_code;
	bool even;
	int code, len;

	inet_pton(AF_INET6, "2001:db8::1:2:3", mapped6.ip);
	memset(userhash, 0x5a, sizeof(userhash));
	short_key(&k1, "pw");
	CU_ASSERT_EQUAL_FATAL(stun_key_init(&k256, STUN_MAC_SHA256, (const uint8_t *)"pw", 2), 0);
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_ERROR, tid);
	stun_add_addr(&b, STUN_ATTR_MAPPED_ADDRESS, &mapped6);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped6);
	stun_add_str(&b, STUN_ATTR_USERNAME, "alice");
	stun_add(&b, STUN_ATTR_USERHASH, userhash, 32);
	stun_add_error(&b, 401, stun_reason(401));
	stun_add_str(&b, STUN_ATTR_REALM, "example.org");
	stun_add_str(&b, STUN_ATTR_NONCE, "obMatJos2nonce");
	stun_add_password_algorithms(&b, algs, 2);
	stun_add_password_algorithm(&b, STUN_PW_SHA256);
	stun_add_unknown(&b, algs, 2);
	stun_add_str(&b, STUN_ATTR_SOFTWARE, "edge 0.1");
	stun_add_addr(&b, STUN_ATTR_ALTERNATE_SERVER, &alt);
	stun_add_str(&b, STUN_ATTR_ALTERNATE_DOMAIN, "turn.example.org");
	stun_add_channel(&b, 0x4001);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 3600);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &alt);
	stun_add(&b, STUN_ATTR_DATA, "payload", 7);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, &mapped6);
	stun_add_family(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, 6);
	stun_add_even_port(&b, false);
	stun_add_transport(&b, 6);
	stun_add(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	stun_add_u64(&b, STUN_ATTR_RESERVATION_TOKEN, 0x0102030405060708ULL);
	stun_add_family(&b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, 6);
	stun_add_family(&b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY_DRAFT, 6); /* coturn's */
	stun_add_address_error(&b, 6, 440, stun_reason(440));
	stun_add_icmp(&b, 3, 4, 1400);
	stun_add_u32(&b, STUN_ATTR_CONNECTION_ID, 0xc0ffee);
	stun_add_u32(&b, STUN_ATTR_PRIORITY, 0x6e0001ff);
	stun_add(&b, STUN_ATTR_USE_CANDIDATE, NULL, 0);
	stun_add_u64(&b, STUN_ATTR_ICE_CONTROLLED, 1);
	stun_add_u64(&b, STUN_ATTR_ICE_CONTROLLING, 2);
	stun_add(&b, STUN_ATTR_ACCESS_TOKEN, "\x00\x02noTOKEN", 9);
	stun_add_str(&b, STUN_ATTR_THIRD_PARTY_AUTHORIZATION, "https://auth.example.org");
	stun_add_integrity(&b, &k1);
	stun_add_integrity_sha256(&b, &k256);
	stun_add_fingerprint(&b);
	len = stun_build_end(&b);
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, (size_t)len, &m), 0);
	CU_ASSERT_EQUAL(m.n_unknown, 0);
	/* every attribute the codec knows is in there, once */
	for (int ai = 0; ai < STUN_AI_MAX; ai++)
		CU_ASSERT(stun_has(&m, (enum stun_attr_index)ai));

	CU_ASSERT_EQUAL(stun_get_addr(&m, STUN_AI_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT(a.family == 6 && a.port == mapped6.port && !memcmp(a.ip, mapped6.ip, 16));
	CU_ASSERT_EQUAL(stun_get_xor_addr(&m, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT(a.family == 6 && a.port == mapped6.port && !memcmp(a.ip, mapped6.ip, 16));
	/* the XOR form differs from the plain one on the wire */
	CU_ASSERT_NOT_EQUAL(memcmp(stun_val(&m, STUN_AI_MAPPED_ADDRESS),
				    stun_val(&m, STUN_AI_XOR_MAPPED_ADDRESS), 20),
		0);
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_USERNAME, &s, &sl), 0);
	CU_ASSERT(sl == 5 && !memcmp(s, "alice", 5));
	CU_ASSERT(m.alen[STUN_AI_USERHASH] == 32 &&
		!memcmp(stun_val(&m, STUN_AI_USERHASH), userhash, 32));
	CU_ASSERT_EQUAL(stun_get_error(&m, &code, &s, &sl), 0);
	CU_ASSERT(code == 401 && sl == 12 && !memcmp(s, "Unauthorized", 12));
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_REALM, &s, &sl), 0);
	CU_ASSERT(sl == 11 && !memcmp(s, "example.org", 11));
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_NONCE, &s, &sl), 0);
	CU_ASSERT(sl == 14);
	CU_ASSERT_EQUAL(stun_get_password_algorithms(&m, got, 4, &n), 0);
	CU_ASSERT(n == 2 && got[0] == STUN_PW_MD5 && got[1] == STUN_PW_SHA256);
	CU_ASSERT_EQUAL(stun_get_password_algorithms(&m, got, 1, &n), 0); /* counts past max */
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(stun_get_password_algorithm(&m, &alg), 0);
	CU_ASSERT_EQUAL(alg, STUN_PW_SHA256);
	CU_ASSERT_EQUAL(stun_get_unknown_list(&m, got, 4, &n), 0);
	CU_ASSERT(n == 2 && got[0] == 1 && got[1] == 2);
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_SOFTWARE, &s, &sl), 0);
	CU_ASSERT(sl == 8 && !memcmp(s, "edge 0.1", 8));
	CU_ASSERT_EQUAL(stun_get_addr(&m, STUN_AI_ALTERNATE_SERVER, &a), 0);
	CU_ASSERT(a.family == 4 && a.port == alt.port && !memcmp(a.ip, alt.ip, 4));
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_ALTERNATE_DOMAIN, &s, &sl), 0);
	CU_ASSERT(sl == 16 && !memcmp(s, "turn.example.org", 16));
	CU_ASSERT_EQUAL(stun_get_channel(&m, &icmp_code), 0);
	CU_ASSERT_EQUAL(icmp_code, 0x4001);
	CU_ASSERT_EQUAL(stun_get_u32(&m, STUN_AI_LIFETIME, &v32), 0);
	CU_ASSERT_EQUAL(v32, 3600);
	CU_ASSERT_EQUAL(stun_get_peer(&m, 0, &a), 0);
	CU_ASSERT(a.family == 4 && a.port == alt.port && !memcmp(a.ip, alt.ip, 4));
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_DATA, &s, &sl), 0);
	CU_ASSERT(sl == 7 && !memcmp(s, "payload", 7));
	CU_ASSERT_EQUAL(stun_get_xor_addr(&m, STUN_AI_XOR_RELAYED_ADDRESS, &a), 0);
	CU_ASSERT(a.family == 6 && !memcmp(a.ip, mapped6.ip, 16));
	CU_ASSERT_EQUAL(stun_get_family(&m, STUN_AI_REQUESTED_ADDRESS_FAMILY, &fam), 0);
	CU_ASSERT_EQUAL(fam, 6);
	CU_ASSERT_EQUAL(stun_get_even_port(&m, &even), 0);
	CU_ASSERT_FALSE(even);
	CU_ASSERT_EQUAL(stun_get_transport(&m, &fam), 0);
	CU_ASSERT_EQUAL(fam, 6);
	CU_ASSERT_EQUAL(m.alen[STUN_AI_DONT_FRAGMENT], 0);
	CU_ASSERT_EQUAL(stun_get_u64(&m, STUN_AI_RESERVATION_TOKEN, &v64), 0);
	CU_ASSERT_EQUAL(v64, 0x0102030405060708ULL);
	CU_ASSERT_EQUAL(stun_get_family(&m, STUN_AI_ADDITIONAL_ADDRESS_FAMILY, &fam), 0);
	CU_ASSERT_EQUAL(fam, 6);
	CU_ASSERT_EQUAL(stun_get_address_error(&m, &fam, &code, &s, &sl), 0);
	CU_ASSERT(fam == 6 && code == 440 && sl == strlen(stun_reason(440)));
	CU_ASSERT_EQUAL(stun_get_icmp(&m, &icmp_type, &icmp_code, &icmp_data), 0);
	CU_ASSERT(icmp_type == 3 && icmp_code == 4 && icmp_data == 1400);
	CU_ASSERT_EQUAL(stun_get_u32(&m, STUN_AI_CONNECTION_ID, &v32), 0);
	CU_ASSERT_EQUAL(v32, 0xc0ffee);
	CU_ASSERT_EQUAL(stun_get_u32(&m, STUN_AI_PRIORITY, &v32), 0);
	CU_ASSERT_EQUAL(v32, 0x6e0001ff);
	CU_ASSERT_EQUAL(m.alen[STUN_AI_USE_CANDIDATE], 0);
	CU_ASSERT_EQUAL(stun_get_u64(&m, STUN_AI_ICE_CONTROLLED, &v64), 0);
	CU_ASSERT_EQUAL(v64, 1);
	CU_ASSERT_EQUAL(stun_get_u64(&m, STUN_AI_ICE_CONTROLLING, &v64), 0);
	CU_ASSERT_EQUAL(v64, 2);
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_ACCESS_TOKEN, &s, &sl), 0);
	CU_ASSERT(sl == 9 && !memcmp(s, "\x00\x02noTOKEN", 9));
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_THIRD_PARTY_AUTHORIZATION, &s, &sl), 0);
	CU_ASSERT(sl == 24);
	/* both integrity attributes verify, MI-SHA256 after MI as RFC 8489 14.6 allows */
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k1), 0);
	CU_ASSERT_EQUAL(stun_check_integrity_sha256(&m, &k256), 0);
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k256), -EINVAL); /* wrong algorithm */
	CU_ASSERT_EQUAL(stun_check_fingerprint(&m), 0);

	/* the getters refuse values of the wrong shape, and absent attributes */
	stun_build(&b, out, sizeof(out), STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_add(&b, STUN_ATTR_LIFETIME, "abc", 3);
	stun_add(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, "\x03\x00\x00\x00", 4);
	stun_add(&b, STUN_ATTR_EVEN_PORT, "\x80\x00", 2);
	stun_add(&b, STUN_ATTR_ICMP, "\x00\x00\x00\x00", 4);
	stun_add(&b, STUN_ATTR_PASSWORD_ALGORITHMS, "\x00\x01\x00\x08\x00\x00\x00\x00", 8);
	stun_add(&b, STUN_ATTR_UNKNOWN_ATTRIBUTES, "\x00\x01\x00", 3);
	stun_add(&b, STUN_ATTR_MAPPED_ADDRESS, "\x00\x01\x00\x01\x01\x02\x03\x04\x05", 9);
	stun_add(&b, STUN_ATTR_ADDRESS_ERROR_CODE, "\x07\x00\x04\x40", 4);
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, (size_t)stun_build_end(&b), &m), 0);
	CU_ASSERT_EQUAL(stun_get_u32(&m, STUN_AI_LIFETIME, &v32), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_family(&m, STUN_AI_REQUESTED_ADDRESS_FAMILY, &fam), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_even_port(&m, &even), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_icmp(&m, &icmp_type, &icmp_code, &icmp_data), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_password_algorithms(&m, got, 4, &n), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_unknown_list(&m, got, 4, &n), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_addr(&m, STUN_AI_MAPPED_ADDRESS, &a), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_address_error(&m, &fam, &code, &s, &sl), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_u64(&m, STUN_AI_ICE_CONTROLLING, &v64), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_str(&m, STUN_AI_NONCE, &s, &sl), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_password_algorithm(&m, &alg), -EINVAL);
	CU_ASSERT_EQUAL(stun_get_u32(&m, STUN_AI_MAX, &v32), -EINVAL); /* out of range */
	/* and the builders refuse what cannot be encoded */
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_SUCCESS, tid);
	CU_ASSERT_EQUAL(stun_add_family(&b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, 5), -EINVAL);
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_SUCCESS, tid);
	CU_ASSERT_EQUAL(stun_add_icmp(&b, 200, 0, 0), -EINVAL);
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_SUCCESS, tid);
	CU_ASSERT_EQUAL(stun_add_error(&b, 700, "x"), -EINVAL);
	CU_ASSERT_EQUAL(stun_build_end(&b), -EINVAL); /* sticky */
	stun_build(&b, out, sizeof(out), STUN_BINDING, STUN_SUCCESS, tid);
	a.family = 5;
	CU_ASSERT_EQUAL(stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &a), -EINVAL);
	stun_key_free(&k1);
	stun_key_free(&k256);
}

/* Builders never write past the capacity, at every capacity. */
static void test_capacity(void)
{
	uint8_t out[256], tid[12] = { 0 };
	struct stun_addr a = { .family = 6 };
	struct stun_builder b;
	struct stun_key k;
	int full = 0;

	short_key(&k, "pw");
	for (size_t cap = 0; cap <= 160; cap++) {
		int len;

		memset(out, 0xee, sizeof(out));
		stun_build(&b, out, cap, STUN_ALLOCATE, STUN_SUCCESS, tid);
		stun_add_xor_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, &a);
		stun_add_str(&b, STUN_ATTR_SOFTWARE, "x");
		stun_add_error(&b, 438, "Stale Nonce");
		stun_add_integrity(&b, &k);
		stun_add_fingerprint(&b);
		len = stun_build_end(&b);
		for (size_t i = cap; i < sizeof(out); i++)
			if (out[i] != 0xee) {
				CU_FAIL("wrote past the capacity");
				break;
			}
		if (len > 0)
			full = full ? full : (int)cap;
		else
			CU_ASSERT_EQUAL(len, -ENOSPC);
	}
	CU_ASSERT_EQUAL(full, 20 + 24 + 8 + 20 + 24 + 8); /* the first size that fits */
	stun_key_free(&k);
}

static void test_integrity_and_fingerprint(void)
{
	uint8_t buf[256];
	size_t n = unhex(v_request, buf);
	struct stun_msg m;
	struct stun_key k;
	uint8_t tid[12] = { 0 };
	struct stun_builder b;
	int len;

	/* the CRC-32 check value of the IEEE polynomial, and chaining */
	CU_ASSERT_EQUAL(stun_crc32(0, "123456789", 9), 0xcbf43926u);
	CU_ASSERT_EQUAL(stun_crc32(stun_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
	CU_ASSERT_EQUAL(stun_crc32(0, NULL, 0), 0);
	{ /* both sides of the switch to zlib at 384 bytes chain into the same value */
		static uint8_t blob[1000];
		uint32_t whole;

		for (size_t i = 0; i < sizeof(blob); i++)
			blob[i] = (uint8_t)(i * 131 + 7);
		whole = stun_crc32(0, blob, sizeof(blob));
		CU_ASSERT_EQUAL(stun_crc32(stun_crc32(0, blob, 100), blob + 100, 900), whole);
		CU_ASSERT_EQUAL(stun_crc32(stun_crc32(0, blob, 500), blob + 500, 500), whole);
		CU_ASSERT_EQUAL(stun_crc32(stun_crc32(0, blob, 383), blob + 383, 617), whole);
		CU_ASSERT_EQUAL(stun_crc32(stun_crc32(0, blob, 999), blob + 999, 1), whole);
	}
	/* any single-bit change anywhere before MESSAGE-INTEGRITY is caught */
	short_key(&k, short_pw);
	for (size_t i = 0; i < 80; i++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1 << bit);
			if (stun_parse(buf, n, &m) == 0 && m.mi_at == 80)
				CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), -EBADMSG);
			buf[i] ^= (uint8_t)(1 << bit);
		}
	}
	/* a changed MAC, a changed FINGERPRINT */
	buf[90] ^= 1;
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, n, &m), 0);
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), -EBADMSG);
	CU_ASSERT_EQUAL(stun_check_fingerprint(&m), -EBADMSG);
	buf[90] ^= 1;
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, n, &m), 0);
	CU_ASSERT_EQUAL(stun_check_fingerprint(&m), 0);
	/* MESSAGE-INTEGRITY of the wrong length is none */
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_add(&b, STUN_ATTR_MESSAGE_INTEGRITY, "0123456789abcdef", 16);
	stun_add(&b, STUN_ATTR_FINGERPRINT, "\x01\x02", 2);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)stun_build_end(&b), &m), 0);
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), -ENOENT);
	CU_ASSERT_EQUAL(stun_check_fingerprint(&m), -ENOENT);
	/* an attribute between MESSAGE-INTEGRITY and FINGERPRINT is ignored, yet the
	 * FINGERPRINT covers it and MESSAGE-INTEGRITY does not (RFC 8489 14.5) */
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_add_integrity(&b, &k);
	stun_add_u32(&b, STUN_ATTR_PRIORITY, 7);
	stun_add_fingerprint(&b);
	len = stun_build_end(&b);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)len, &m), 0);
	CU_ASSERT_FALSE(stun_has(&m, STUN_AI_PRIORITY));
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), 0);
	CU_ASSERT_EQUAL(stun_check_fingerprint(&m), 0);
	/* a long HMAC key (over 64 bytes) is hashed first, as RFC 2104 says; still verifies */
	{
		static const char longkey[] =
			"0123456789012345678901234567890123456789012345678901234567890123456789";
		struct stun_key lk;

		CU_ASSERT_EQUAL_FATAL(stun_key_init(&lk, STUN_MAC_SHA1, (const uint8_t *)longkey,
					      70),
			0);
		stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
		stun_add_integrity(&b, &lk);
		CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)stun_build_end(&b), &m), 0);
		CU_ASSERT_EQUAL(stun_check_integrity(&m, &lk), 0);
		CU_ASSERT_EQUAL(stun_check_integrity(&m, &k), -EBADMSG);
		stun_key_free(&lk);
	}
	stun_key_free(&k);
}

static void test_rfc_ordering(void)
{
	uint8_t buf[256], tid[12] = { 0 };
	struct stun_builder b;
	struct stun_msg m;
	struct stun_key k1, k256;
	int len;

	short_key(&k1, "pw");
	CU_ASSERT_EQUAL_FATAL(stun_key_init(&k256, STUN_MAC_SHA256, (const uint8_t *)"pw", 2), 0);
	/* after MESSAGE-INTEGRITY-SHA256 a MESSAGE-INTEGRITY is ignored */
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_add_integrity_sha256(&b, &k256);
	stun_add_integrity(&b, &k1);
	len = stun_build_end(&b);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)len, &m), 0);
	CU_ASSERT_EQUAL(stun_check_integrity_sha256(&m, &k256), 0);
	CU_ASSERT_EQUAL(stun_check_integrity(&m, &k1), -ENOENT);
	/* whatever follows FINGERPRINT is not even read: even a broken attribute */
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_add_fingerprint(&b);
	stun_add(&b, 0x0042, "abcd", 4);
	len = stun_build_end(&b);
	buf[len - 6] = 0x10; /* its length now runs past the end */
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)len, &m), 0);
	CU_ASSERT_EQUAL(m.n_unknown, 0);
	/* duplicates: the first wins for every attribute, including XOR-PEER-ADDRESS's getter */
	stun_build(&b, buf, sizeof(buf), STUN_CREATE_PERMISSION, STUN_REQUEST, tid);
	stun_add_str(&b, STUN_ATTR_USERNAME, "first");
	stun_add_str(&b, STUN_ATTR_USERNAME, "second");
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)stun_build_end(&b), &m), 0);
	CU_ASSERT(m.alen[STUN_AI_USERNAME] == 5 &&
		!memcmp(stun_val(&m, STUN_AI_USERNAME), "first", 5));
	stun_key_free(&k1);
	stun_key_free(&k256);
}

/* Each class of malformed input, with the answer a server gives it. */
static void test_malformed_answers(void)
{
	uint8_t buf[256], tid[12] = { 7 };
	static uint8_t big[65536 + 64], val[65536];
	struct stun_builder b;
	struct stun_msg m;
	int len, ret;

	/* a header is kept for an answer even when the body is broken */
	stun_build(&b, buf, sizeof(buf), STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 1);
	len = stun_build_end(&b);
	buf[23] = 9; /* LIFETIME of 9 bytes runs past the end */
	ret = stun_parse(buf, (size_t)len, &m);
	CU_ASSERT_EQUAL(ret, -STUN_E_ATTR);
	CU_ASSERT_EQUAL(stun_parse_error_code(ret, buf, (size_t)len), 400);
	CU_ASSERT(m.method == STUN_ALLOCATE && m.cls == STUN_REQUEST && m.tid == buf + 8);
	CU_ASSERT_STRING_EQUAL(stun_parse_strerror(ret), "attribute overruns the message");
	{
		uint8_t out[128];
		struct stun_builder rb;
		struct stun_msg r;
		int code;
		const char *s;
		size_t sl;

		CU_ASSERT_EQUAL(stun_build_response(&rb, out, sizeof(out), &m, 400), 0);
		CU_ASSERT_EQUAL_FATAL(stun_parse(out, (size_t)stun_build_end(&rb), &r), 0);
		CU_ASSERT(r.method == STUN_ALLOCATE && r.cls == STUN_ERROR &&
			!memcmp(r.tid, tid, 12));
		CU_ASSERT_EQUAL(stun_get_error(&r, &code, &s, &sl), 0);
		CU_ASSERT(code == 400 && sl == 11 && !memcmp(s, "Bad Request", 11));
	}
	/* the same breakage in an indication or a response: discarded silently */
	buf[1] = 0x13; /* Allocate success */
	ret = stun_parse(buf, (size_t)len, &m);
	CU_ASSERT_EQUAL(stun_parse_error_code(ret, buf, (size_t)len), 0);
	/* a TURN request method as an indication is no message */
	stun_build(&b, buf, sizeof(buf), STUN_REFRESH, STUN_INDICATION, tid);
	CU_ASSERT_EQUAL(stun_parse(buf, 20, &m), -STUN_E_TYPE);
	stun_build(&b, buf, sizeof(buf), STUN_DATA, STUN_SUCCESS, tid);
	CU_ASSERT_EQUAL(stun_parse(buf, 20, &m), -STUN_E_TYPE);
	/* a length that overflows the 16-bit view, and the largest that does not */
	stun_build(&b, big, sizeof(big), STUN_BINDING, STUN_INDICATION, tid);
	CU_ASSERT_EQUAL(stun_add(&b, STUN_ATTR_DATA, val, 65508), 0);
	len = stun_build_end(&b);
	CU_ASSERT_EQUAL_FATAL(len, 65532);
	CU_ASSERT_EQUAL(stun_parse(big, (size_t)len, &m), 0);
	CU_ASSERT_EQUAL(m.alen[STUN_AI_DATA], 65508);
	stun_build(&b, big, sizeof(big), STUN_BINDING, STUN_INDICATION, tid);
	CU_ASSERT_EQUAL(stun_add(&b, STUN_ATTR_DATA, val, 65512), -ENOSPC); /* 65516 */
	big[2] = 0xff, big[3] = 0xec;					    /* 65516 by hand */
	CU_ASSERT_EQUAL(stun_parse(big, sizeof(big), &m), -STUN_E_LENGTH);
	big[2] = 0xff, big[3] = 0xfc;
	CU_ASSERT_EQUAL(stun_parse(big, 200, &m), -STUN_E_SHORT);
	/* padding that is not there: an attribute of 5 bytes in an 8-byte message body */
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_add(&b, STUN_ATTR_SOFTWARE, "abcd", 4);
	buf[23] = 5;
	CU_ASSERT_EQUAL(stun_parse(buf, 28, &m), -STUN_E_ATTR);
	/* a body too short for an attribute header */
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	buf[3] = 4;
	memset(buf + 20, 0, 4);
	CU_ASSERT_EQUAL(stun_parse(buf, 24, &m), 0);   /* type 0, length 0: one empty attribute */
	CU_ASSERT_EQUAL(stun_unknown_answer(&m), 420); /* type 0 is reserved: unknown */
	/* unknowns: 420 for a request, discard for the others, nothing when none */
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_INDICATION, tid);
	stun_add(&b, 0x0030, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)stun_build_end(&b), &m), 0);
	CU_ASSERT_EQUAL(stun_unknown_answer(&m), -EPROTO);
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	stun_add(&b, 0xc030, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)stun_build_end(&b), &m), 0);
	CU_ASSERT_EQUAL(stun_unknown_answer(&m), 0);
	/* more unknowns than the list holds: the first STUN_MAX_UNKNOWN are reported */
	stun_build(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, tid);
	for (uint16_t t = 0x0040; t < 0x0040 + STUN_MAX_UNKNOWN + 4; t++)
		stun_add(&b, t, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)stun_build_end(&b), &m), 0);
	CU_ASSERT_EQUAL(m.n_unknown, STUN_MAX_UNKNOWN);
	{
		uint8_t out[256];
		struct stun_builder rb;
		struct stun_msg r;
		uint16_t types[32];
		unsigned int n;

		CU_ASSERT_EQUAL(stun_build_response(&rb, out, sizeof(out), &m, 420), 0);
		CU_ASSERT_EQUAL_FATAL(stun_parse(out, (size_t)stun_build_end(&rb), &r), 0);
		CU_ASSERT_EQUAL(stun_get_unknown_list(&r, types, 32, &n), 0);
		CU_ASSERT(n == STUN_MAX_UNKNOWN && types[0] == 0x0040 &&
			types[n - 1] == 0x0040 + n - 1);
	}
	CU_ASSERT_STRING_EQUAL(stun_parse_strerror(-STUN_E_NOT_STUN), "not STUN");
	CU_ASSERT_STRING_EQUAL(stun_parse_strerror(-99), "unknown error");
}

static void test_server_helpers(void)
{
	uint8_t req[128], out[128], tid[12] = { 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144 };
	struct stun_addr client = { .family = 4, .port = htons(40000), .ip = { 203, 0, 113, 7 } },
			 a;
	struct stun_builder b;
	struct stun_msg m, r;
	struct stun_key k;
	uint8_t key[16];

	stun_build(&b, req, sizeof(req), STUN_BINDING, STUN_REQUEST, tid);
	CU_ASSERT_EQUAL_FATAL(stun_parse(req, (size_t)stun_build_end(&b), &m), 0);
	/* a Binding success with XOR-MAPPED-ADDRESS, signed and fingerprinted */
	CU_ASSERT_EQUAL(stun_long_term_key("u", "r", "p", key), 0);
	CU_ASSERT_EQUAL_FATAL(stun_key_init(&k, STUN_MAC_SHA1, key, 16), 0);
	CU_ASSERT_EQUAL(stun_build_response(&b, out, sizeof(out), &m, 0), 0);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &client);
	stun_add_integrity(&b, &k);
	stun_add_fingerprint(&b);
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, (size_t)stun_build_end(&b), &r), 0);
	CU_ASSERT(r.cls == STUN_SUCCESS && r.method == STUN_BINDING && !memcmp(r.tid, tid, 12));
	CU_ASSERT_EQUAL(stun_get_xor_addr(&r, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT(a.port == client.port && !memcmp(a.ip, client.ip, 4));
	CU_ASSERT_EQUAL(stun_check_integrity(&r, &k), 0);
	CU_ASSERT_EQUAL(stun_check_fingerprint(&r), 0);
	/* an answer built over its own request (in place, as in an mbuf) */
	memcpy(out, req, 20);
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, 20, &m), 0);
	CU_ASSERT_EQUAL(stun_build_response(&b, out, sizeof(out), &m, 437), 0);
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, (size_t)stun_build_end(&b), &r), 0);
	CU_ASSERT(r.cls == STUN_ERROR && !memcmp(r.tid, tid, 12));
	CU_ASSERT_STRING_EQUAL(stun_reason(438), "Stale Nonce");
	CU_ASSERT_STRING_EQUAL(stun_reason(508), "Insufficient Capacity");
	CU_ASSERT_STRING_EQUAL(stun_reason(599), "Error");
	/* too small a buffer for the answer */
	CU_ASSERT_EQUAL(stun_build_response(&b, out, 30, &m, 400), -ENOSPC);
	stun_key_free(&k);
}

static void test_fast_path(void)
{
	uint8_t buf[512], payload[300], tid[12] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8 };
	struct stun_addr peer4 = { .family = 4, .port = htons(5004), .ip = { 198, 51, 100, 20 } };
	struct stun_addr peer6 = { .family = 6, .port = htons(5006) }, a;
	struct stun_builder b;
	struct stun_fast_ind fi;
	struct stun_msg m;
	uint16_t ch = 0, dlen = 0, doff = 0;
	int len;

	inet_pton(AF_INET6, "2001:db8:ffff::42", peer6.ip);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13);
	/* ChannelData: UDP (no padding needed) and stream (padded) */
	len = stun_channel_data_build(buf, sizeof(buf), 0x4001, payload, 5, false);
	CU_ASSERT_EQUAL(len, 9);
	CU_ASSERT_EQUAL(stun_fast_channel_data(buf, 9, &ch, &dlen), 0);
	CU_ASSERT(ch == 0x4001 && dlen == 5 && !memcmp(buf + 4, payload, 5));
	CU_ASSERT_EQUAL(stun_fast_channel_data(buf, 8, &ch, &dlen), -EMSGSIZE);
	CU_ASSERT_EQUAL(stun_frame_len(buf, 9), 12);
	len = stun_channel_data_build(buf, sizeof(buf), 0x4fff, payload, 5, true);
	CU_ASSERT_EQUAL(len, 12);
	CU_ASSERT(buf[9] == 0 && buf[10] == 0 && buf[11] == 0);
	CU_ASSERT_EQUAL(stun_channel_data_build(buf, 11, 0x4001, payload, 5, true), -ENOSPC);
	CU_ASSERT_EQUAL(stun_channel_data_build(buf, sizeof(buf), 0x3fff, payload, 5, false),
		-EINVAL);
	CU_ASSERT_EQUAL(stun_channel_data_build(buf, sizeof(buf), 0x5000, payload, 5, false),
		-EINVAL);
	memmove(buf + 4, payload, 16); /* payload already in place: only the header is written */
	CU_ASSERT_EQUAL(stun_channel_data_build(buf, sizeof(buf), 0x4002, buf + 4, 16, true), 20);
	CU_ASSERT_EQUAL(memcmp(buf + 4, payload, 16), 0);
	buf[0] = 0x00;
	CU_ASSERT_EQUAL(stun_fast_channel_data(buf, 20, &ch, &dlen), -EINVAL);
	buf[0] = 0x50;
	CU_ASSERT_EQUAL(stun_fast_channel_data(buf, 20, &ch, &dlen), -EINVAL);
	CU_ASSERT_EQUAL(stun_frame_len(buf, 20), 20); /* RFC 5766's channel range frames too */
	buf[0] = 0x80;
	CU_ASSERT_EQUAL(stun_frame_len(buf, 20), -EBADMSG);
	CU_ASSERT_EQUAL(stun_frame_len(buf, 3), 0);

	/* Send indication with an IPv4 peer; the fast and the full parse agree */
	stun_build(&b, buf, sizeof(buf), STUN_SEND, STUN_INDICATION, tid);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer4);
	stun_add(&b, STUN_ATTR_DATA, payload, 172);
	stun_add(&b, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	stun_add_fingerprint(&b);
	len = stun_build_end(&b);
	CU_ASSERT_EQUAL(stun_frame_len(buf, (size_t)len), len);
	CU_ASSERT_EQUAL_FATAL(stun_fast_send_indication(buf, (size_t)len, &a, &doff, &dlen), 0);
	CU_ASSERT(a.family == 4 && a.port == peer4.port && !memcmp(a.ip, peer4.ip, 4));
	CU_ASSERT(dlen == 172 && !memcmp(buf + doff, payload, 172));
	CU_ASSERT_EQUAL_FATAL(stun_fast_indication(buf, (size_t)len, 0x0016, &fi), 0);
	CU_ASSERT(fi.dont_fragment && fi.len == len);
	CU_ASSERT_EQUAL_FATAL(stun_parse(buf, (size_t)len, &m), 0);
	CU_ASSERT_EQUAL(m.off[STUN_AI_DATA], doff);
	CU_ASSERT_EQUAL(stun_fast_data_indication(buf, (size_t)len, &a, &doff, &dlen), -EINVAL);
	/* Data indication with an IPv6 peer */
	stun_build(&b, buf, sizeof(buf), STUN_DATA, STUN_INDICATION, tid);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer6);
	stun_add(&b, STUN_ATTR_DATA, payload, 3);
	len = stun_build_end(&b);
	CU_ASSERT_EQUAL_FATAL(stun_fast_data_indication(buf, (size_t)len, &a, &doff, &dlen), 0);
	CU_ASSERT(a.family == 6 && a.port == peer6.port && !memcmp(a.ip, peer6.ip, 16));
	CU_ASSERT(dlen == 3 && doff == 48);
	/* truncated, bad padding, no DATA, an unknown required attribute, integrity inside */
	CU_ASSERT_EQUAL(stun_fast_data_indication(buf, (size_t)len - 4, &a, &doff, &dlen),
		-EBADMSG);
	buf[len - 6] = 0, buf[len - 5] = 5; /* DATA of 5 bytes in 4 */
	CU_ASSERT_EQUAL(stun_fast_data_indication(buf, (size_t)len, &a, &doff, &dlen), -EBADMSG);
	stun_build(&b, buf, sizeof(buf), STUN_SEND, STUN_INDICATION, tid);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer4);
	len = stun_build_end(&b);
	CU_ASSERT_EQUAL(stun_fast_send_indication(buf, (size_t)len, &a, &doff, &dlen), -EBADMSG);
	stun_add(&b, 0x0031, NULL, 0);
	stun_add(&b, STUN_ATTR_DATA, payload, 1);
	len = stun_build_end(&b);
	CU_ASSERT_EQUAL(stun_fast_send_indication(buf, (size_t)len, &a, &doff, &dlen), -ENOTSUP);
	stun_build(&b, buf, sizeof(buf), STUN_SEND, STUN_INDICATION, tid);
	stun_add(&b, STUN_ATTR_XOR_PEER_ADDRESS, "\x00\x01\x00\x00\x00\x00", 6);
	stun_add(&b, STUN_ATTR_DATA, payload, 1);
	len = stun_build_end(&b);
	CU_ASSERT_EQUAL(stun_fast_send_indication(buf, (size_t)len, &a, &doff, &dlen), -EBADMSG);
	/* duplicates: the first XOR-PEER-ADDRESS and DATA, as stun_parse() */
	stun_build(&b, buf, sizeof(buf), STUN_SEND, STUN_INDICATION, tid);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer4);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer6);
	stun_add(&b, STUN_ATTR_DATA, payload, 2);
	stun_add(&b, STUN_ATTR_DATA, payload, 9);
	len = stun_build_end(&b);
	CU_ASSERT_EQUAL_FATAL(stun_fast_send_indication(buf, (size_t)len, &a, &doff, &dlen), 0);
	CU_ASSERT(a.family == 4 && dlen == 2);
	/* not an indication of that type, not STUN */
	buf[1] = 0x06;
	CU_ASSERT_EQUAL(stun_fast_send_indication(buf, (size_t)len, &a, &doff, &dlen), -EINVAL);
	CU_ASSERT_EQUAL(stun_fast_send_indication(buf, 10, &a, &doff, &dlen), -EINVAL);
}

static void test_credentials_more(void)
{
	uint8_t key[16], key2[16], st[64];
	char pw[64];

	/* short-term: the password itself, SASLprep'd */
	CU_ASSERT_EQUAL(stun_short_term_key(short_pw, st, sizeof(st)), (int)strlen(short_pw));
	CU_ASSERT_EQUAL(memcmp(st, short_pw, strlen(short_pw)), 0);
	CU_ASSERT_EQUAL(stun_short_term_key(lt_pass, st, sizeof(st)), 9);
	CU_ASSERT_EQUAL(memcmp(st, "TheMatrIX", 9), 0);
	CU_ASSERT_EQUAL(stun_short_term_key(short_pw, st, 4), -ENOSPC);
	/* the TURN REST API, server side: a USERNAME from the wire (not terminated) */
	CU_ASSERT_EQUAL(stun_rest_password("north", "1700000000:alice", pw, sizeof(pw)), 0);
	CU_ASSERT_EQUAL(stun_long_term_key("1700000000:alice", "example.org", pw, key2), 0);
	CU_ASSERT_EQUAL(stun_rest_long_term_key("north", "1700000000:aliceXYZ", 16, "example.org",
				1699999000, key),
		0);
	CU_ASSERT_EQUAL(memcmp(key, key2, 16), 0);
	CU_ASSERT_EQUAL(stun_rest_long_term_key("north", "1700000000:alice", 16, "example.org",
				1700000001, key),
		-EKEYEXPIRED);
	CU_ASSERT_EQUAL(stun_rest_long_term_key("north", "alice", 5, "example.org", 0, key),
		-EINVAL);
	CU_ASSERT_EQUAL(stun_rest_long_term_key("north", "17\0:x", 5, "example.org", 0, key),
		-EINVAL);
	/* the password itself, computed independently:
	 * printf %s 1700000000:alice | openssl dgst -sha1 -hmac north -binary | base64 */
	CU_ASSERT_STRING_EQUAL(pw, "Cd/49soE35ICqcJF/bCTn8Z4OyE=");
	/* SASLprep: prohibited and unassigned-in-stored-strings input */
	CU_ASSERT_EQUAL(stun_saslprep("a\xe2\x80\x8e"
				      "b",
				pw, sizeof(pw)),
		-EINVAL);						 /* LRM */
	CU_ASSERT_EQUAL(stun_saslprep("I\xc2\xadX", pw, sizeof(pw)), 0); /* soft hyphen goes */
	CU_ASSERT_STRING_EQUAL(pw, "IX");
	CU_ASSERT_EQUAL(stun_saslprep("\xe2\x85\xa8", pw, sizeof(pw)), 0); /* NFKC: IX */
	CU_ASSERT_STRING_EQUAL(pw, "IX");
}

static void test_demux(void)
{
	static const struct {
		int lo, hi;
		enum stun_demux d;
	} ranges[] = {
		{ 0, 3, STUN_DEMUX_STUN },
		{ 4, 15, STUN_DEMUX_UNKNOWN },
		{ 16, 19, STUN_DEMUX_ZRTP },
		{ 20, 63, STUN_DEMUX_DTLS },
		{ 64, 79, STUN_DEMUX_TURN_CHANNEL },
		{ 80, 127, STUN_DEMUX_QUIC },
		{ 128, 191, STUN_DEMUX_RTP },
		{ 192, 255, STUN_DEMUX_QUIC },
	};

	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++)
		for (int v = ranges[r].lo; v <= ranges[r].hi; v++)
			CU_ASSERT_EQUAL(stun_demux((uint8_t)v), ranges[r].d);
}

struct suite {
	const char *name;
	struct {
		const char *name;
		void (*fn)(void);
	} tests[8];
};

static const struct suite suites[] = {
	{ "vectors",
		{
			{ "RFC 5769 2.1 sample request: parse, verify, rebuild byte for byte",
				test_rfc5769_request },
			{ "RFC 5769 2.2/2.3 IPv4 and IPv6 responses", test_rfc5769_responses },
			{ "RFC 5769 2.4 long-term credentials with SASLprep",
				test_rfc5769_long_term },
			{ "RFC 8489 B.1 (erratum 6268): USERHASH and MESSAGE-INTEGRITY-SHA256",
				test_rfc8489_sha256_userhash },
		} },
	{ "attributes",
		{
			{ "round trips; tampering is caught; every method and class",
				test_round_trips },
			{ "every attribute of RFC 8489/8656/6062/8445/7635 through builder and getter",
				test_every_attribute },
			{ "builders never write past the capacity", test_capacity },
		} },
	{ "malformed",
		{
			{ "malformed input, class by class", test_malformed },
			{ "what a server answers to each class", test_malformed_answers },
			{ "RFC order rules: after MI, MI-SHA256, FINGERPRINT; duplicates",
				test_rfc_ordering },
		} },
	{ "integrity",
		{
			{ "MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT under tampering; CRC-32",
				test_integrity_and_fingerprint },
		} },
	{ "fastpath",
		{
			{ "ChannelData, Send/Data indications, stream framing", test_fast_path },
			{ "RFC 7983/9443 demultiplexing by the first byte", test_demux },
		} },
	{ "credentials",
		{
			{ "long-term key, TURN REST API", test_credentials },
			{ "short-term keys, REST API server side, SASLprep", test_credentials_more },
		} },
	{ "server",
		{
			{ "responses: success with XOR-MAPPED-ADDRESS, errors, in place",
				test_server_helpers },
		} },
};

int main(void)
{
	int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		CU_pSuite s = CU_add_suite(suites[i].name, NULL, NULL);

		for (int t = 0; t < 8 && suites[i].tests[t].name; t++)
			CU_add_test(s, suites[i].tests[t].name, suites[i].tests[t].fn);
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = (int)(CU_get_number_of_failures() + CU_get_number_of_tests_failed());
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
