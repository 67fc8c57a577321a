/* The guests' JWTs (web_jwt.c) and the callbridge's meetings (cb_conf.c): a token signed with
 * the callbridge's key checks against its certificate and nothing else (another key, a
 * changed claim, "alg" swapped to HS256 or none, expiry); a conference comes with its first
 * guest and goes with its last, guest accounts are per join, and legs go with their link. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>

#include "../../controlplane/callbridge/cb_conf.h"
#include "../../controlplane/web/web.h"
#include "../../controlplane/web/web_jwt.h"
#include "edge_log.h"
#include "test_certs.h"
#include "unit.h"

static struct tc_lab lab;

static void keys(struct web_jwt_key *priv, struct web_jwt_key *pub)
{
	char path[128], err[160];

	snprintf(path, sizeof(path), "%s/edge.key", lab.dir);
	CU_ASSERT_EQUAL_FATAL(web_jwt_key_load(priv, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(web_jwt_key_from_cert(pub, lab.leaf, err, sizeof(err)), 0);
}

static char *sign(const struct web_jwt_key *k, time_t now, long life)
{
	json_t *c = json_pack("{s:s, s:s, s:s}", "sub", "guest1573064743", "participant",
		"fcfe42f4-ac94-4ab2-a14a-f4165ec960a7", "name", "Thomas");
	char *t = web_jwt_sign(k, c, now, life);

	json_decref(c);
	return t;
}

static void test_jwt_round_trip(void)
{
	struct web_jwt_key priv, pub;
	json_t *claims = NULL;
	char *tok;

	keys(&priv, &pub);
	tok = sign(&priv, 1000, 3600);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	CU_ASSERT_EQUAL(web_jwt_verify(&pub, tok, 2000, &claims), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(claims, "sub")),
		"guest1573064743");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(claims, "name")), "Thomas");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(claims, "exp")), 4600);
	json_decref(claims);
	/* the signer's claim can be read before checking (to pick the key), and only that */
	char sub[32];
	CU_ASSERT_EQUAL(web_jwt_peek(tok, "sub", sub, sizeof(sub)), 0);
	CU_ASSERT_STRING_EQUAL(sub, "guest1573064743");
	CU_ASSERT_EQUAL(web_jwt_peek(tok, "sub", sub, 8), -ENOENT);	      /* does not fit */
	CU_ASSERT_EQUAL(web_jwt_peek(tok, "exp", sub, sizeof(sub)), -ENOENT); /* not a string */
	CU_ASSERT_EQUAL(web_jwt_peek("a.b.c", "sub", sub, sizeof(sub)), -ENOENT);
	CU_ASSERT_EQUAL(web_jwt_peek("no dots", "sub", sub, sizeof(sub)), -ENOENT);
	/* expired an hour on */
	CU_ASSERT_EQUAL(web_jwt_verify(&pub, tok, 4600, &claims), -EKEYEXPIRED);
	CU_ASSERT_PTR_NULL(claims);
	free(tok);
	web_jwt_key_free(&priv);
	web_jwt_key_free(&pub);
}

static void test_jwt_other_key(void)
{
	struct web_jwt_key priv, pub, other;
	EVP_PKEY *k2 = tc_key();
	struct tc_spec s = { .cn = "rogue", .san = "DNS:rogue.example" };
	X509 *c2 = tc_cert(&s, k2, NULL, NULL);
	json_t *claims;
	char err[160], *tok;

	keys(&priv, &pub);
	CU_ASSERT_EQUAL_FATAL(web_jwt_key_from_cert(&other, c2, err, sizeof(err)), 0);
	tok = sign(&priv, 1000, 60);
	CU_ASSERT_EQUAL(web_jwt_verify(&other, tok, 1001, &claims), -EBADMSG);
	free(tok);
	X509_free(c2);
	EVP_PKEY_free(k2);
	web_jwt_key_free(&priv);
	web_jwt_key_free(&pub);
	web_jwt_key_free(&other);
}

/* base64url without padding, for forging */
static void b64url(const char *in, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)strlen(in));

	for (int i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	while (n && out[n - 1] == '=')
		n--;
	out[n] = '\0';
}

static void test_jwt_tampered(void)
{
	struct web_jwt_key priv, pub;
	json_t *claims;
	char *tok, forged[2048], h[256], p[512];

	keys(&priv, &pub);
	tok = sign(&priv, 1000, 60);
	/* a claim changed: the signature no longer holds */
	char *dot = strchr(tok, '.');
	snprintf(forged, sizeof(forged), "%s", tok);
	forged[dot - tok + 5] ^= 1;
	CU_ASSERT_EQUAL(web_jwt_verify(&pub, forged, 1001, &claims), -EBADMSG);
	/* "alg": "none" */
	b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", h);
	b64url("{\"sub\":\"guest1\",\"exp\":99999999999}", p);
	snprintf(forged, sizeof(forged), "%s.%s.", h, p);
	CU_ASSERT_EQUAL(web_jwt_verify(&pub, forged, 1001, &claims), -EBADMSG);
	/* HS256 with the public key as the secret (the classic confusion): refused before the
	 * MAC is even looked at */
	b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", h);
	snprintf(forged, sizeof(forged), "%s.%s.AAAA", h, p);
	CU_ASSERT_EQUAL(web_jwt_verify(&pub, forged, 1001, &claims), -EBADMSG);
	/* garbage */
	CU_ASSERT_EQUAL(web_jwt_verify(&pub, "", 1001, &claims), -EBADMSG);
	CU_ASSERT_EQUAL(web_jwt_verify(&pub, "a.b.c", 1001, &claims), -EBADMSG);
	CU_ASSERT_EQUAL(web_jwt_verify(&pub, "...........", 1001, &claims), -EBADMSG);
	free(tok);
	web_jwt_key_free(&priv);
	web_jwt_key_free(&pub);
}

static void test_uuid(void)
{
	char a[WEB_UUID_LEN], b[WEB_UUID_LEN];

	web_uuid(a);
	web_uuid(b);
	CU_ASSERT_EQUAL(strlen(a), 36);
	CU_ASSERT_EQUAL(a[14], '4');		       /* version 4 */
	CU_ASSERT_PTR_NOT_NULL(strchr("89ab", a[19])); /* RFC 4122 variant */
	CU_ASSERT_NOT_EQUAL(strcmp(a, b), 0);
}

static void test_conference_lifecycle(void)
{
	struct cb_model m;
	struct cb_conf_space s9999 = { "58ef98d1-5181-4e63-a386-4b60597be7e4", "9999" };
	struct cb_conf_space s1 = { "11111111-5181-4e63-a386-4b60597be7e4", "other" };
	struct cb_leg *a, *b, *c;

	cb_conf_init(&m);
	a = cb_conf_join(&m, &s9999, 1450660605, "Thomas", "198.18.20.2", 1);
	b = cb_conf_join(&m, &s9999, 1450660606, "Anna", "198.18.20.3", 1);
	c = cb_conf_join(&m, &s1, 1450660607, "Bob", "198.18.20.4", 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(m.n_calls, 2);
	CU_ASSERT_PTR_EQUAL(a->call, b->call); /* one conference per space */
	CU_ASSERT_EQUAL(a->call->n_legs, 2);
	CU_ASSERT_STRING_EQUAL(a->call->name, "9999");
	CU_ASSERT_EQUAL(strncmp(a->guest, "guest", 5), 0);
	CU_ASSERT_EQUAL(strlen(a->guest), 15); /* guest + 10 digits */
	CU_ASSERT_NOT_EQUAL(strcmp(a->guest, b->guest), 0);
	CU_ASSERT_NOT_EQUAL(strcmp(a->id, a->participant_id), 0);
	CU_ASSERT_PTR_EQUAL(cb_conf_leg(&m, b->id), b);
	CU_ASSERT_FALSE(a->session);
	cb_conf_session(&m, a, "Chrome");
	CU_ASSERT_TRUE(a->session);
	CU_ASSERT_TRUE(a->call_no > 0);
	cb_conf_session(&m, b, "Firefox");
	CU_ASSERT_EQUAL(b->call_no, a->call_no + 1);
	char bid[CB_ID_LEN];
	snprintf(bid, sizeof(bid), "%s", b->id);
	cb_conf_leave(&m, b, "session resource teardown");
	CU_ASSERT_PTR_NULL(cb_conf_leg(&m, bid));
	CU_ASSERT_EQUAL(m.n_calls, 2); /* Thomas is still there */
	CU_ASSERT_EQUAL(a->call->n_legs, 1);
	CU_ASSERT_EQUAL(a->call->max_legs, 2);
	cb_conf_leave(&m, a, "session resource teardown");
	CU_ASSERT_EQUAL(m.n_calls, 1); /* the last one out: 9999 is gone */
	CU_ASSERT_STRING_EQUAL(m.calls->name, "other");
	cb_conf_fini(&m);
}

static int dropped;
static void drop(struct cb_model *m, struct cb_leg *leg, void *arg)
{
	(void)arg;
	dropped++;
	cb_conf_leave(m, leg, "web bridge connection loss");
}

static void test_legs_go_with_their_link(void)
{
	struct cb_model m;
	struct cb_conf_space s[3] = { { "a", "A" }, { "b", "B" }, { "c", "C" } };

	cb_conf_init(&m);
	for (int i = 0; i < 9; i++)
		CU_ASSERT_PTR_NOT_NULL(
			cb_conf_join(&m, &s[i % 3], (unsigned int)i, "g", "x", i < 6 ? 1 : 2));
	CU_ASSERT_EQUAL(m.n_calls, 3);
	dropped = 0;
	cb_conf_each_on_link(&m, 1, drop, NULL);
	CU_ASSERT_EQUAL(dropped, 6);
	CU_ASSERT_EQUAL(m.n_calls, 3); /* link 2's three guests remain, one each */
	for (struct cb_call *c = m.calls; c; c = c->next) {
		CU_ASSERT_EQUAL(c->n_legs, 1);
		CU_ASSERT_EQUAL(c->legs->link, 2);
	}
	cb_conf_each_on_link(&m, 2, drop, NULL);
	CU_ASSERT_EQUAL(m.n_calls, 0);
	cb_conf_fini(&m);
}

/* The failed-join and failed-login limit: addresses are keys, exact (the old 1024-slot table
 * let two addresses share a count, and a newcomer zeroed it); an IPv4-mapped address is its
 * IPv4; an IPv6 host is its /64. */
static void test_addr_limit_by_peer(void)
{
	struct addr_limit *l = addr_limit_new(64, 10, 60000);
	uint8_t k1[ADDR_LIMIT_KEY_MAX], k2[ADDR_LIMIT_KEY_MAX];
	int allowed = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL(web_addr_key("198.18.20.2", 0, k1), 5);
	CU_ASSERT_EQUAL(web_addr_key("::ffff:198.18.20.2", 0, k2), 5);
	CU_ASSERT_EQUAL(memcmp(k1, k2, 5), 0);
	CU_ASSERT_TRUE(web_addr_same("2001:db8:1:2::1", "2001:db8:1:2:ffff::7"));
	CU_ASSERT_FALSE(web_addr_same("2001:db8:1:2::1", "2001:db8:1:3::1"));
	CU_ASSERT_FALSE(web_addr_same("198.18.20.2", "198.18.20.3"));
	CU_ASSERT_FALSE(web_addr_same("?", "0.0.0.0"));
	/* "198.18.20.2" and "198.18.21.27" shared a slot of the old table */
	for (int i = 0; i < 60; i++)
		allowed += web_limit_take(l, "198.18.20.2", 0);
	CU_ASSERT_EQUAL(allowed, 10);
	CU_ASSERT_TRUE(web_limit_over(l, "198.18.20.2", 0));
	CU_ASSERT_FALSE(web_limit_over(l, "198.18.21.27", 0));
	CU_ASSERT_TRUE(web_limit_take(l, "198.18.21.27", 0));
	CU_ASSERT_TRUE(web_limit_over(l, "198.18.20.2", 0)); /* not lifted by a neighbour */
	/* a tag is another count: a log line once per address and kind */
	CU_ASSERT_TRUE(web_limit_take(l, "198.18.20.2", 1));
	addr_limit_free(l);
	l = web_log_once_new(60000);
	CU_ASSERT_TRUE(web_log_once(l, "198.18.20.2", 0));
	CU_ASSERT_FALSE(web_log_once(l, "198.18.20.2", 0));
	CU_ASSERT_TRUE(web_log_once(l, "198.18.20.2", 1));
	CU_ASSERT_TRUE(web_log_once(l, "198.18.20.3", 0));
	addr_limit_free(l);
}

/* One client cannot take every leg: a space holds CB_CONF_MAX_SPACE_LEGS guests, an address
 * CB_CONF_MAX_ADDR_LEGS, the callbridge its total. */
static void test_conference_caps(void)
{
	struct cb_model m;
	struct cb_conf_space a = { "aaaaaaaa-5181-4e63-a386-4b60597be7e4", "A" };
	struct cb_conf_space b = { "bbbbbbbb-5181-4e63-a386-4b60597be7e4", "B" };
	char ip[32];

	cb_conf_init(&m);
	for (int i = 0; i < CB_CONF_MAX_ADDR_LEGS; i++) {
		CU_ASSERT_EQUAL(cb_conf_admit(&m, a.id, "198.18.20.2", 450), 0);
		CU_ASSERT_PTR_NOT_NULL(cb_conf_join(&m, &a, 1, "g", "198.18.20.2", 1));
	}
	CU_ASSERT_EQUAL(cb_conf_admit(&m, a.id, "198.18.20.2", 450), -EUSERS);
	CU_ASSERT_EQUAL(cb_conf_admit(&m, b.id, "198.18.20.2", 450), -EUSERS);
	CU_ASSERT_EQUAL(cb_conf_admit(&m, a.id, "198.18.20.3", 450), 0);
	for (int i = CB_CONF_MAX_ADDR_LEGS; i < CB_CONF_MAX_SPACE_LEGS; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
		CU_ASSERT_EQUAL(cb_conf_admit(&m, a.id, ip, 450), 0);
		CU_ASSERT_PTR_NOT_NULL(cb_conf_join(&m, &a, 1, "g", ip, 1));
	}
	CU_ASSERT_EQUAL(cb_conf_admit(&m, a.id, "198.18.20.3", 450), -EDQUOT);
	CU_ASSERT_EQUAL(cb_conf_admit(&m, b.id, "198.18.20.3", 450), 0);
	CU_ASSERT_EQUAL(cb_conf_admit(&m, b.id, "198.18.20.3", CB_CONF_MAX_SPACE_LEGS), -ENOSPC);
	cb_conf_fini(&m);
}

/* A WebSocket message dropped for its size is dropped whole, and the next one is read: the
 * callbridge used to keep discarding after one oversized C2W message, deaf but "up". */
static void test_rx_resync(void)
{
	struct web_rx rx = { 0 };

	CU_ASSERT_EQUAL(web_rx_msg(&rx, "ab", 2, false, 16), 0);
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "cd", 2, true, 16), 1);
	CU_ASSERT_STRING_EQUAL(rx.buf, "abcd");
	CU_ASSERT_EQUAL(rx.len, 4);
	/* the next fragment starts a new message */
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "x", 1, true, 16), 1);
	CU_ASSERT_STRING_EQUAL(rx.buf, "x");
	/* over the limit in its first fragment: reported once, at the end of the message */
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "0123456789abcdefg", 17, false, 16), 0);
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "more", 4, false, 16), 0);
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "end", 3, true, 16), -EMSGSIZE);
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "{\"a\":1}", 7, true, 16), 1);
	CU_ASSERT_STRING_EQUAL(rx.buf, "{\"a\":1}");
	/* over it in its last fragment, alone */
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "0123456789", 10, false, 16), 0);
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "0123456789", 10, true, 16), -EMSGSIZE);
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "0123456789abcdefg", 17, true, 16), -EMSGSIZE);
	/* exactly the limit fits; an empty message is an empty string */
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "0123456789abcdef", 16, true, 16), 1);
	CU_ASSERT_EQUAL(rx.len, 16);
	CU_ASSERT_EQUAL(web_rx_msg(&rx, "", 0, true, 16), 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rx.buf);
	CU_ASSERT_STRING_EQUAL(rx.buf, "");
	web_rx_reset(&rx);
	CU_ASSERT_PTR_NULL(rx.buf);
}

/* What a guest can send inside 64 KiB may re-encode past C2W's 256 KiB: measured first. */
static void test_json_dump_measured(void)
{
	size_t n = 16000, len = 0;
	char *text = malloc(n * 4 + 16), *out = (char *)1, *p = text;
	json_t *m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	p += sprintf(p, "[");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, i ? ",0.1" : "0.1");
	sprintf(p, "]");
	CU_ASSERT(strlen(text) <= 64 * 1024);
	m = json_loads(text, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(web_json_dump(m, 256 * 1024, &out, &len), -EMSGSIZE);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT(len > 256 * 1024);
	CU_ASSERT_EQUAL(web_json_dump(json_pack("{s:s, s:i}", "type", "x", "n", 1), 64, &out, &len),
		0);
	CU_ASSERT_STRING_EQUAL(out, "{\"type\":\"x\",\"n\":1}");
	CU_ASSERT_EQUAL(len, strlen(out));
	free(out);
	CU_ASSERT_EQUAL(web_json_dump(json_pack("{s:s}", "type", "x"), 5, &out, &len), -EMSGSIZE);
	free(text);
}

/* ---- a TLS listener's certificate replaced while it serves (web_tls_load) ---- */

struct tls_pair {
	SSL *cli, *srv;
};

/* A handshake in memory between a client trusting nothing in particular and @srv_ctx; 0 or -1. */
static int handshake(SSL_CTX *srv_ctx, SSL_CTX *cli_ctx, struct tls_pair *p)
{
	BIO *a, *b;

	p->cli = SSL_new(cli_ctx);
	p->srv = SSL_new(srv_ctx);
	if (!p->cli || !p->srv || !BIO_new_bio_pair(&a, 0, &b, 0))
		return -1;
	SSL_set_bio(p->cli, a, a);
	SSL_set_bio(p->srv, b, b);
	SSL_set_connect_state(p->cli);
	SSL_set_accept_state(p->srv);
	for (int i = 0; i < 20; i++) {
		int c = SSL_do_handshake(p->cli), s = SSL_do_handshake(p->srv);

		if (c == 1 && s == 1)
			return 0;
	}
	return -1;
}

/* the serial of the certificate the client of @p was shown */
static long served_serial(const struct tls_pair *p)
{
	X509 *x = SSL_get1_peer_certificate(p->cli);
	long n = x ? ASN1_INTEGER_get(X509_get0_serialNumber(x)) : -1;

	X509_free(x);
	return n;
}

static void pair_free(struct tls_pair *p)
{
	SSL_free(p->cli);
	SSL_free(p->srv);
}

static bool pair_talks(struct tls_pair *p)
{
	char buf[8] = "";

	return SSL_write(p->cli, "ping", 4) == 4 && SSL_read(p->srv, buf, sizeof(buf)) == 4 &&
		!memcmp(buf, "ping", 4);
}

static void test_tls_reload(void)
{
	struct tc_spec spec = { .cn = "rot.lab.example", .san = "IP:198.18.20.1", .serial = 2000 };
	SSL_CTX *srv = SSL_CTX_new(TLS_server_method()), *cli = SSL_CTX_new(TLS_client_method());
	EVP_PKEY *k2 = tc_key(), *rsa = EVP_RSA_gen(2048);
	X509 *c2 = tc_cert(&spec, k2, lab.ca, lab.ca_key), *crsa;
	char key[128], cert[128], key2[128], cert2[128], keyr[128], certr[128], err[256];
	struct tls_pair before, after, again;

	spec.serial = 3000;
	crsa = tc_cert(&spec, rsa, lab.ca, lab.ca_key);
	CU_ASSERT_FATAL(srv && cli && k2 && rsa && c2 && crsa);
	X509 *chain2[] = { c2, lab.ca }, *chainr[] = { crsa, lab.ca };
	CU_ASSERT_FATAL(tc_write(lab.dir, "rot.key", k2, NULL, 0) == 0 &&
		tc_write(lab.dir, "rot-fullchain.pem", NULL, chain2, 2) == 0 &&
		tc_write(lab.dir, "rsa.key", rsa, NULL, 0) == 0 &&
		tc_write(lab.dir, "rsa-fullchain.pem", NULL, chainr, 2) == 0);
	snprintf(key, sizeof(key), "%s/edge.key", lab.dir);
	snprintf(cert, sizeof(cert), "%s/cmsedge-fullchain.cer", lab.dir);
	snprintf(key2, sizeof(key2), "%s/rot.key", lab.dir);
	snprintf(cert2, sizeof(cert2), "%s/rot-fullchain.pem", lab.dir);
	snprintf(keyr, sizeof(keyr), "%s/rsa.key", lab.dir);
	snprintf(certr, sizeof(certr), "%s/rsa-fullchain.pem", lab.dir);

	/* the listener as it started */
	CU_ASSERT_EQUAL_FATAL(web_tls_load(srv, key, cert, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(handshake(srv, cli, &before), 0);
	CU_ASSERT_EQUAL(served_serial(&before), 1000);

	/* renewed: new handshakes get the new certificate, with its chain; the one established
	 * before keeps its session and talks on */
	CU_ASSERT_EQUAL(web_tls_load(srv, key2, cert2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(handshake(srv, cli, &after), 0);
	CU_ASSERT_EQUAL(served_serial(&after), 2000);
	{
		STACK_OF(X509) *sk = SSL_get_peer_cert_chain(after.cli);

		CU_ASSERT(
			sk && sk_X509_num(sk) == 2); /* the leaf and the CA, as the file has them */
	}
	CU_ASSERT(pair_talks(&before));
	CU_ASSERT_EQUAL(served_serial(&before), 1000);

	/* refused, the pair in use kept: a key that is not the certificate's, a missing file, a
	 * key of another type (the context would keep offering the old type's pair) */
	CU_ASSERT_EQUAL(web_tls_load(srv, key, cert2, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mismatch"));
	CU_ASSERT_EQUAL(web_tls_load(srv, key2, "/nonexistent/cert.pem", err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/cert.pem"));
	CU_ASSERT_EQUAL(web_tls_load(srv, keyr, certr, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "another type"));
	CU_ASSERT_EQUAL_FATAL(handshake(srv, cli, &again), 0);
	CU_ASSERT_EQUAL(served_serial(&again), 2000);
	CU_ASSERT(pair_talks(&after));

	pair_free(&before);
	pair_free(&after);
	pair_free(&again);
	X509_free(c2);
	X509_free(crsa);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(rsa);
	SSL_CTX_free(srv);
	SSL_CTX_free(cli);
}

int main(void)
{
	static const struct unit_test tests[] = { { "jwt round trip and expiry",
							  test_jwt_round_trip },
		{ "jwt from another key refused", test_jwt_other_key },
		{ "jwt tampered, alg none, HS256 confusion, garbage", test_jwt_tampered },
		{ "uuid v4", test_uuid }, { "conference lifecycle", test_conference_lifecycle },
		{ "legs go with their C2W link", test_legs_go_with_their_link },
		{ "failures counted per address, exactly", test_addr_limit_by_peer },
		{ "a space and an address have their caps", test_conference_caps },
		{ "web_rx: an oversized message is dropped, the next one read", test_rx_resync },
		{ "C2W messages measured before sending", test_json_dump_measured },
		{ "a TLS listener's certificate replaced while it serves", test_tls_reload },
		{ NULL, NULL } };
	int rc;

	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_WARNING);
	if (tc_lab_make(&lab) < 0)
		return 1;
	rc = unit_run("web", tests);
	tc_lab_free(&lab);
	return rc;
}
