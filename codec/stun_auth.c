/* MESSAGE-INTEGRITY(-SHA256), FINGERPRINT and the credential derivations. OpenSSL 3 fetches
 * each algorithm once; an HMAC key keeps its inner and outer digest states, so a check costs
 * two context copies plus the hashing of the message itself. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stringprep.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "stun.h"

static const EVP_MD *md_sha1, *md_sha256, *md_md5;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static __thread EVP_MD_CTX *scratch;

static void md_fetch(void)
{
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
}

static int md_ready(void)
{
	pthread_once(&md_once, md_fetch);
	if (!md_sha1 || !md_sha256 || !md_md5)
		return -ENOTSUP;
	if (!scratch && !(scratch = EVP_MD_CTX_new()))
		return -ENOMEM;
	return 0;
}

int stun_key_init(struct stun_key *k, enum stun_mac mac, const uint8_t *key, size_t len)
{
	uint8_t block[64], pad[64];
	const EVP_MD *md;
	unsigned int hl;
	int ret = md_ready();

	memset(k, 0, sizeof(*k));
	if (ret < 0)
		return ret;
	md = mac == STUN_MAC_SHA256 ? md_sha256 : md_sha1;
	memset(block, 0, sizeof(block));
	if (len > sizeof(block)) { /* RFC 2104: long keys are hashed first */
		if (!EVP_Digest(key, len, block, &hl, md, NULL))
			return -EIO;
	} else {
		memcpy(block, key, len);
	}
	k->mac = mac;
	k->inner = EVP_MD_CTX_new();
	k->outer = EVP_MD_CTX_new();
	if (!k->inner || !k->outer) {
		stun_key_free(k);
		return -ENOMEM;
	}
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x36;
	ret = EVP_DigestInit_ex2(k->inner, md, NULL) && EVP_DigestUpdate(k->inner, pad, 64);
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x5c;
	ret = ret && EVP_DigestInit_ex2(k->outer, md, NULL) && EVP_DigestUpdate(k->outer, pad, 64);
	OPENSSL_cleanse(block, sizeof(block));
	OPENSSL_cleanse(pad, sizeof(pad));
	if (!ret) {
		stun_key_free(k);
		return -EIO;
	}
	return 0;
}

void stun_key_free(struct stun_key *k)
{
	EVP_MD_CTX_free(k->inner);
	EVP_MD_CTX_free(k->outer);
	k->inner = k->outer = NULL;
}

int stun_key_mac(const struct stun_key *k, const void *const *p, const size_t *len, int n,
	uint8_t *out, unsigned int *outlen)
{
	uint8_t ih[EVP_MAX_MD_SIZE];
	unsigned int ihl;
	int ok;

	if (!k->inner || md_ready() < 0)
		return -EINVAL;
	ok = EVP_MD_CTX_copy_ex(scratch, k->inner);
	for (int i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(scratch, p[i], len[i]);
	ok = ok && EVP_DigestFinal_ex(scratch, ih, &ihl) && EVP_MD_CTX_copy_ex(scratch, k->outer) &&
		EVP_DigestUpdate(scratch, ih, ihl) && EVP_DigestFinal_ex(scratch, out, outlen);
	return ok ? 0 : -EIO;
}

/* HMAC over the message up to @at, with the header's length field set to @patched_len. */
static int mac_upto(const struct stun_key *k, const uint8_t *buf, uint16_t at, uint16_t patched_len,
	uint8_t *out, unsigned int *outlen)
{
	uint8_t l[2] = { patched_len >> 8, patched_len & 0xff };
	const void *p[3] = { buf, l, buf + 4 };
	size_t len[3] = { 2, 2, at - 4u };

	return stun_key_mac(k, p, len, 3, out, outlen);
}

int stun_check_integrity(const struct stun_msg *m, const struct stun_key *k)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int ml;

	if (!m->mi_at || m->alen[STUN_AI_MESSAGE_INTEGRITY] != 20)
		return -ENOENT;
	if (k->mac != STUN_MAC_SHA1)
		return -EINVAL;
	if (mac_upto(k, m->buf, m->mi_at, (uint16_t)(m->mi_at - STUN_HDR_LEN + 24), mac, &ml) < 0)
		return -EIO;
	return CRYPTO_memcmp(mac, m->buf + m->mi_at + 4, 20) == 0 ? 0 : -EBADMSG;
}

int stun_check_integrity_sha256(const struct stun_msg *m, const struct stun_key *k)
{
	uint16_t al = m->alen[STUN_AI_MESSAGE_INTEGRITY_SHA256];
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int ml;

	/* RFC 8489 14.6: 16 to 32 bytes, a multiple of 4 (a truncated HMAC) */
	if (!m->mi256_at || al < 16 || al > 32 || (al & 3))
		return -ENOENT;
	if (k->mac != STUN_MAC_SHA256)
		return -EINVAL;
	if (mac_upto(k, m->buf, m->mi256_at, (uint16_t)(m->mi256_at - STUN_HDR_LEN + 4 + al), mac,
		    &ml) < 0)
		return -EIO;
	return CRYPTO_memcmp(mac, m->buf + m->mi256_at + 4, al) == 0 ? 0 : -EBADMSG;
}

static uint32_t fingerprint(const uint8_t *buf, uint16_t at)
{
	uint16_t patched = (uint16_t)(at - STUN_HDR_LEN + 8);
	uint8_t l[2] = { patched >> 8, patched & 0xff };
	uint32_t crc = stun_crc32(0, buf, 2);

	crc = stun_crc32(crc, l, 2);
	crc = stun_crc32(crc, buf + 4, at - 4u);
	return crc ^ STUN_FINGERPRINT_XOR;
}

int stun_check_fingerprint(const struct stun_msg *m)
{
	const uint8_t *v;

	if (!m->fp_at || m->alen[STUN_AI_FINGERPRINT] != 4)
		return -ENOENT;
	v = m->buf + m->fp_at + 4;
	return fingerprint(m->buf, m->fp_at) == edge_be32(v) ? 0 : -EBADMSG;
}

/* ---- building's finishing attributes ---- */

static int add_mac(struct stun_builder *b, const struct stun_key *k, uint16_t type, size_t maclen)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int ml;
	uint16_t at = (uint16_t)b->len;

	if (b->err)
		return b->err;
	if (b->len + 4 + maclen > b->cap || b->len + 4 + maclen > STUN_MAX_MSG)
		return b->err = -ENOSPC;
	if (mac_upto(k, b->buf, at, (uint16_t)(at - STUN_HDR_LEN + 4 + maclen), mac, &ml) < 0)
		return b->err = -EIO;
	edge_put_be16(b->buf + 2, (uint16_t)(at - STUN_HDR_LEN + 4 + maclen));
	edge_put_be16(b->buf + at, type);
	edge_put_be16(b->buf + at + 2, (uint16_t)maclen);
	memcpy(b->buf + at + 4, mac, maclen);
	b->len += 4 + maclen;
	return 0;
}

int stun_add_integrity(struct stun_builder *b, const struct stun_key *k)
{
	if (k->mac != STUN_MAC_SHA1)
		return b->err = -EINVAL;
	return add_mac(b, k, STUN_ATTR_MESSAGE_INTEGRITY, 20);
}

int stun_add_integrity_sha256(struct stun_builder *b, const struct stun_key *k)
{
	if (k->mac != STUN_MAC_SHA256)
		return b->err = -EINVAL;
	return add_mac(b, k, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 32);
}

int stun_add_fingerprint(struct stun_builder *b)
{
	uint16_t at = (uint16_t)b->len;
	uint32_t fp;

	if (b->err)
		return b->err;
	if (b->len + 8 > b->cap || b->len + 8 > STUN_MAX_MSG)
		return b->err = -ENOSPC;
	fp = fingerprint(b->buf, at);
	edge_put_be16(b->buf + 2, (uint16_t)(at - STUN_HDR_LEN + 8));
	edge_put_be16(b->buf + at, STUN_ATTR_FINGERPRINT);
	edge_put_be16(b->buf + at + 2, 4);
	b->buf[at + 4] = fp >> 24;
	b->buf[at + 5] = (fp >> 16) & 0xff;
	b->buf[at + 6] = (fp >> 8) & 0xff;
	b->buf[at + 7] = fp & 0xff;
	b->len += 8;
	return 0;
}

/* ---- credentials ---- */

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

int stun_saslprep(const char *in, char *out, size_t outlen)
{
	char *prepped = NULL;
	int rc;

	for (const char *p = in; ascii(in) && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL; /* control characters are prohibited (RFC 4013 2.3) */
	if (ascii(in)) {		/* printable ASCII maps to itself */
		if (strlen(in) >= outlen)
			return -ENOSPC;
		memcpy(out, in, strlen(in) + 1);
		return 0;
	}
	rc = stringprep_profile(in, &prepped, "SASLprep", 0);
	if (rc != STRINGPREP_OK)
		return -EINVAL;
	rc = strlen(prepped) < outlen ? 0 : -ENOSPC;
	if (rc == 0)
		memcpy(out, prepped, strlen(prepped) + 1);
	free(prepped);
	return rc;
}

static int digest3(const EVP_MD *md, const char *a, const char *b, const char *c, uint8_t *out)
{
	char buf[1024];
	unsigned int len;
	int n = c ? snprintf(buf, sizeof(buf), "%s:%s:%s", a, b, c) :
		    snprintf(buf, sizeof(buf), "%s:%s", a, b);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	return EVP_Digest(buf, n, out, &len, md, NULL) ? 0 : -EIO;
}

static int prep3(const char *realm, const char *pass, char *r, char *p, size_t len)
{
	if (stun_saslprep(realm, r, len) < 0)
		return -EINVAL;
	if (pass && stun_saslprep(pass, p, len) < 0)
		return -EINVAL;
	return 0;
}

int stun_long_term_key(const char *user, const char *realm, const char *pass, uint8_t out[16])
{
	char r[256], p[256];
	int ret = md_ready();

	if (ret < 0 || (ret = prep3(realm, pass, r, p, sizeof(r))) < 0)
		return ret;
	ret = digest3(md_md5, user, r, p, out);
	OPENSSL_cleanse(p, sizeof(p));
	return ret;
}

int stun_long_term_key_sha256(const char *user, const char *realm, const char *pass,
	uint8_t out[32])
{
	char r[256], p[256];
	int ret = md_ready();

	if (ret < 0 || (ret = prep3(realm, pass, r, p, sizeof(r))) < 0)
		return ret;
	ret = digest3(md_sha256, user, r, p, out);
	OPENSSL_cleanse(p, sizeof(p));
	return ret;
}

int stun_userhash(const char *user, const char *realm, uint8_t out[32])
{
	char r[256];
	int ret = md_ready();

	if (ret < 0 || (ret = prep3(realm, NULL, r, NULL, sizeof(r))) < 0)
		return ret;
	return digest3(md_sha256, user, r, NULL, out);
}

int stun_rest_password(const char *secret, const char *username, char *out, size_t outlen)
{
	struct stun_key k;
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int ml;
	const void *p[1] = { username };
	size_t len[1] = { strlen(username) };
	int ret = stun_key_init(&k, STUN_MAC_SHA1, (const uint8_t *)secret, strlen(secret));

	if (ret < 0)
		return ret;
	ret = stun_key_mac(&k, p, len, 1, mac, &ml);
	stun_key_free(&k);
	if (ret < 0)
		return ret;
	if (outlen < 4 * ((ml + 2) / 3) + 1)
		return -ENOSPC;
	EVP_EncodeBlock((unsigned char *)out, mac, (int)ml);
	return 0;
}

int stun_short_term_key(const char *pass, uint8_t *out, size_t outlen)
{
	char prepped[514]; /* RFC 8489 14.3: usernames and passwords under 509 bytes */
	size_t n;
	int ret = stun_saslprep(pass, prepped, sizeof(prepped));

	if (ret < 0)
		return ret;
	n = strlen(prepped);
	if (n > outlen)
		ret = -ENOSPC;
	else
		memcpy(out, prepped, n);
	OPENSSL_cleanse(prepped, sizeof(prepped));
	return ret < 0 ? ret : (int)n;
}

int stun_rest_check_expiry(const char *username, size_t len, uint64_t now)
{
	uint64_t expiry = 0;
	size_t i;

	for (i = 0; i < len && username[i] >= '0' && username[i] <= '9'; i++) {
		if (expiry > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		expiry = expiry * 10 + (uint64_t)(username[i] - '0');
	}
	if (i == 0 || (i < len && username[i] != ':'))
		return -EINVAL;
	return expiry > now ? 0 : -EKEYEXPIRED;
}

int stun_rest_long_term_key(const char *secret, const char *user, size_t len, const char *realm,
	uint64_t now, uint8_t key[16])
{
	char name[512], pass[64];
	int ret;

	if (len == 0 || len >= sizeof(name) || memchr(user, '\0', len))
		return -EINVAL;
	ret = stun_rest_check_expiry(user, len, now);
	if (ret < 0)
		return ret;
	memcpy(name, user, len);
	name[len] = '\0';
	ret = stun_rest_password(secret, name, pass, sizeof(pass));
	if (ret == 0)
		ret = stun_long_term_key(name, realm, pass, key);
	OPENSSL_cleanse(pass, sizeof(pass));
	return ret;
}
