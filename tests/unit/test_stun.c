/* The STUN/TURN codec against the published vectors (RFC 5769, RFC 8489 B.1 as corrected
 * by erratum 6268), byte for byte both ways; round trips for the attributes; and every
 * class of malformed input answered the right way. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"
#include "unit.h"

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
static const char *lt_user = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
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
		peers[i] = (struct stun_addr){ .family = 4, .port = htons(7000 + i), .ip = { 198, 18, 200, (uint8_t)i } };
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

	CU_ASSERT_EQUAL(stun_parse(buf, 19, &m), -STUN_E_SHORT);	/* truncated header */
	CU_ASSERT_EQUAL(stun_parse(buf, n - 4, &m), -STUN_E_SHORT);	/* shorter than its length */
	buf[4] ^= 1;
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_NOT_STUN);	/* bad cookie */
	buf[4] ^= 1;
	buf[0] |= 0x80;
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_NOT_STUN);	/* top bits */
	CU_ASSERT_EQUAL(stun_parse_error_code(-STUN_E_NOT_STUN, buf, n), 0);	/* silently dropped */
	buf[0] &= 0x3f;
	buf[3] = 0x57;
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_LENGTH);	/* not a multiple of 4 */
	CU_ASSERT_EQUAL(stun_parse_error_code(-STUN_E_LENGTH, buf, n), 400);	/* a request: 400 */
	buf[3] = 0x58;
	buf[22] = 0x00, buf[23] = 0x60;	/* SOFTWARE claims 96 bytes */
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_ATTR);
	buf[23] = 0x10;
	buf[103] = 0x05;	/* FINGERPRINT of 5 bytes: its padding runs past the end */
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), -STUN_E_ATTR);
	buf[103] = 0x04;
	CU_ASSERT_EQUAL(stun_parse(buf, n, &m), 0);
	buf[102] = 0xff, buf[103] = 0xff;	/* 0xffff: its padding would wrap a 16-bit length */
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
	static const uint8_t want[16] = { 0x84, 0x93, 0xfb, 0xc5, 0x3b, 0xa5, 0x82, 0xfb,
		0x4c, 0x04, 0x4c, 0x45, 0x6b, 0xdc, 0x40, 0xeb };

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

static void test_demux(void)
{
	CU_ASSERT_EQUAL(stun_demux(0x00), DEMUX_STUN);
	CU_ASSERT_EQUAL(stun_demux(0x01), DEMUX_STUN);
	CU_ASSERT_EQUAL(stun_demux(0x16), DEMUX_DTLS);	/* a DTLS handshake record */
	CU_ASSERT_EQUAL(stun_demux(0x40), DEMUX_TURN_CHANNEL);
	CU_ASSERT_EQUAL(stun_demux(0x4f), DEMUX_TURN_CHANNEL);
	CU_ASSERT_EQUAL(stun_demux(0x80), DEMUX_RTP);
	CU_ASSERT_EQUAL(stun_demux(0xbf), DEMUX_RTP);
	CU_ASSERT_EQUAL(stun_demux(0x11), DEMUX_ZRTP);
	CU_ASSERT_EQUAL(stun_demux(0xff), DEMUX_UNKNOWN);
}

static const struct unit_test tests[] = {
	{ "RFC 5769 2.1 sample request: parse, verify, rebuild byte for byte", test_rfc5769_request },
	{ "RFC 5769 2.2/2.3 IPv4 and IPv6 responses", test_rfc5769_responses },
	{ "RFC 5769 2.4 long-term credentials with SASLprep", test_rfc5769_long_term },
	{ "RFC 8489 B.1 (erratum 6268): USERHASH and MESSAGE-INTEGRITY-SHA256", test_rfc8489_sha256_userhash },
	{ "round trips of the attributes; tampering is caught", test_round_trips },
	{ "malformed input, class by class", test_malformed },
	{ "credentials: long-term key, TURN REST API", test_credentials },
	{ "RFC 7983 demultiplexing by the first byte", test_demux },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("stun", tests);
}
