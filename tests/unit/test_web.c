/* The guests' JWTs (web_jwt.c) and the callbridge's meetings (cb_conf.c): a token signed with
 * the callbridge's key checks against its certificate and nothing else (another key, a
 * changed claim, "alg" swapped to HS256 or none, expiry); a conference comes with its first
 * guest and goes with its last, guest accounts are per join, and legs go with their link. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

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
	CU_ASSERT_STRING_EQUAL(
		json_string_value(json_object_get(claims, "sub")), "guest1573064743");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(claims, "name")), "Thomas");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(claims, "exp")), 4600);
	json_decref(claims);
	/* the signer's claim can be read before checking (to pick the key), and only that */
	char sub[32];
	CU_ASSERT_EQUAL(web_jwt_peek(tok, "sub", sub, sizeof(sub)), 0);
	CU_ASSERT_STRING_EQUAL(sub, "guest1573064743");
	CU_ASSERT_EQUAL(web_jwt_peek(tok, "sub", sub, 8), -ENOENT);	/* does not fit */
	CU_ASSERT_EQUAL(web_jwt_peek(tok, "exp", sub, sizeof(sub)), -ENOENT);	/* not a string */
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
	CU_ASSERT_EQUAL(a[14], '4');			/* version 4 */
	CU_ASSERT_PTR_NOT_NULL(strchr("89ab", a[19]));	/* RFC 4122 variant */
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
	CU_ASSERT_PTR_EQUAL(a->call, b->call);		/* one conference per space */
	CU_ASSERT_EQUAL(a->call->n_legs, 2);
	CU_ASSERT_STRING_EQUAL(a->call->name, "9999");
	CU_ASSERT_EQUAL(strncmp(a->guest, "guest", 5), 0);
	CU_ASSERT_EQUAL(strlen(a->guest), 15);		/* guest + 10 digits */
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
	CU_ASSERT_EQUAL(m.n_calls, 2);			/* Thomas is still there */
	CU_ASSERT_EQUAL(a->call->n_legs, 1);
	CU_ASSERT_EQUAL(a->call->max_legs, 2);
	cb_conf_leave(&m, a, "session resource teardown");
	CU_ASSERT_EQUAL(m.n_calls, 1);			/* the last one out: 9999 is gone */
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
		CU_ASSERT_PTR_NOT_NULL(cb_conf_join(&m, &s[i % 3], (unsigned int)i, "g", "x",
			i < 6 ? 1 : 2));
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

int main(void)
{
	static const struct unit_test tests[] = {
		{ "jwt round trip and expiry", test_jwt_round_trip },
		{ "jwt from another key refused", test_jwt_other_key },
		{ "jwt tampered, alg none, HS256 confusion, garbage", test_jwt_tampered },
		{ "uuid v4", test_uuid },
		{ "conference lifecycle", test_conference_lifecycle },
		{ "legs go with their C2W link", test_legs_go_with_their_link },
		{ NULL, NULL }
	};
	int rc;

	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_WARNING);
	if (tc_lab_make(&lab) < 0)
		return 1;
	rc = unit_run("web", tests);
	tc_lab_free(&lab);
	return rc;
}
