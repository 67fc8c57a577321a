/* The libsrtp2 we link computes the right bytes: libsrtp's own AES-CM and GCM packet vectors, and
 * packets checked against an OpenSSL reference that itself reproduces RFC 3711 B.3 and RFC 7714 16. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <srtp2/srtp.h>

#include "unit.h"

/* RFC 3711 Appendix B.3: master key and salt, and the session keys they derive (kdr 0). */
static const uint8_t b3_master_key[16] = {
	0xe1,
	0xf9,
	0x7a,
	0x0d,
	0x3e,
	0x01,
	0x8b,
	0xe0,
	0xd6,
	0x4f,
	0xa3,
	0x2c,
	0x06,
	0xde,
	0x41,
	0x39,
};
static const uint8_t b3_master_salt[14] = {
	0x0e,
	0xc6,
	0x75,
	0xad,
	0x49,
	0x8a,
	0xfe,
	0xeb,
	0xb6,
	0x96,
	0x0b,
	0x3a,
	0xab,
	0xe6,
};
static const uint8_t b3_cipher_key[16] = {
	0xc6,
	0x1e,
	0x7a,
	0x93,
	0x74,
	0x4f,
	0x39,
	0xee,
	0x10,
	0x73,
	0x4a,
	0xfe,
	0x3f,
	0xf7,
	0xa0,
	0x87,
};
static const uint8_t b3_cipher_salt[14] = {
	0x30,
	0xcb,
	0xbc,
	0x08,
	0x86,
	0x3d,
	0x8c,
	0x85,
	0xd4,
	0x9d,
	0xb3,
	0x4a,
	0x9a,
	0xe1,
};
static const uint8_t b3_auth_key[20] = {
	0xce,
	0xbe,
	0x32,
	0x1f,
	0x6f,
	0xf7,
	0x71,
	0x6b,
	0x6f,
	0xd4,
	0xab,
	0x49,
	0xaf,
	0x25,
	0x6a,
	0x15,
	0x6d,
	0x38,
	0xba,
	0xa4,
};

/* RFC 7714 16.1.1: AEAD_AES_128_GCM with the session key and salt given directly. */
static const uint8_t r7714_key[16] = {
	0x00,
	0x01,
	0x02,
	0x03,
	0x04,
	0x05,
	0x06,
	0x07,
	0x08,
	0x09,
	0x0a,
	0x0b,
	0x0c,
	0x0d,
	0x0e,
	0x0f,
};
static const uint8_t r7714_salt[12] = {
	0x51, 0x75, 0x69, 0x64, 0x20, 0x70, 0x72, 0x6f, 0x20, 0x71, 0x75, 0x6f, /* "Quid pro quo" */
};
static const uint8_t r7714_plain[50] = {
	0x80,
	0x40,
	0xf1,
	0x7b,
	0x80,
	0x41,
	0xf8,
	0xd3,
	0x55,
	0x01,
	0xa0,
	0xb2,
	0x47,
	0x61,
	0x6c,
	0x6c,
	0x69,
	0x61,
	0x20,
	0x65,
	0x73,
	0x74,
	0x20,
	0x6f,
	0x6d,
	0x6e,
	0x69,
	0x73,
	0x20,
	0x64,
	0x69,
	0x76,
	0x69,
	0x73,
	0x61,
	0x20,
	0x69,
	0x6e,
	0x20,
	0x70,
	0x61,
	0x72,
	0x74,
	0x65,
	0x73,
	0x20,
	0x74,
	0x72,
	0x65,
	0x73,
};
static const uint8_t r7714_protected[66] = {
	0x80,
	0x40,
	0xf1,
	0x7b,
	0x80,
	0x41,
	0xf8,
	0xd3,
	0x55,
	0x01,
	0xa0,
	0xb2,
	0xf2,
	0x4d,
	0xe3,
	0xa3,
	0xfb,
	0x34,
	0xde,
	0x6c,
	0xac,
	0xba,
	0x86,
	0x1c,
	0x9d,
	0x7e,
	0x4b,
	0xca,
	0xbe,
	0x63,
	0x3b,
	0xd5,
	0x0d,
	0x29,
	0x4e,
	0x6f,
	0x42,
	0xa5,
	0xf4,
	0x7a,
	0x51,
	0xc7,
	0xd1,
	0x9b,
	0x36,
	0xde,
	0x3a,
	0xdf,
	0x88,
	0x33,
	0x89,
	0x9d,
	0x7f,
	0x27,
	0xbe,
	0xb1,
	0x6a,
	0x91,
	0x52,
	0xcf,
	0x76,
	0x5e,
	0xe4,
	0x39,
	0x0c,
	0xce,
};

/* libsrtp's test/srtp_driver.c packet vectors (srtp_validate, srtp_validate_gcm): SSRC
 * 0xcafebabe, seq 0x1234, 16 bytes of 0xab. */
static const uint8_t lib_plain[28] = {
	0x80,
	0x0f,
	0x12,
	0x34,
	0xde,
	0xca,
	0xfb,
	0xad,
	0xca,
	0xfe,
	0xba,
	0xbe,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
	0xab,
};
static const uint8_t lib_cm_protected[38] = {
	0x80,
	0x0f,
	0x12,
	0x34,
	0xde,
	0xca,
	0xfb,
	0xad,
	0xca,
	0xfe,
	0xba,
	0xbe,
	0x4e,
	0x55,
	0xdc,
	0x4c,
	0xe7,
	0x99,
	0x78,
	0xd8,
	0x8c,
	0xa4,
	0xd2,
	0x15,
	0x94,
	0x9d,
	0x24,
	0x02,
	0xb7,
	0x8d,
	0x6a,
	0xcc,
	0x99,
	0xea,
	0x17,
	0x9b,
	0x8d,
	0xbb,
};
static const uint8_t lib_gcm_key[28] = {
	0x00,
	0x01,
	0x02,
	0x03,
	0x04,
	0x05,
	0x06,
	0x07,
	0x08,
	0x09,
	0x0a,
	0x0b,
	0x0c,
	0x0d,
	0x0e,
	0x0f,
	0xa0,
	0xa1,
	0xa2,
	0xa3,
	0xa4,
	0xa5,
	0xa6,
	0xa7,
	0xa8,
	0xa9,
	0xaa,
	0xab,
};
static const uint8_t lib_gcm_protected[44] = {
	0x80,
	0x0f,
	0x12,
	0x34,
	0xde,
	0xca,
	0xfb,
	0xad,
	0xca,
	0xfe,
	0xba,
	0xbe,
	0xc5,
	0x00,
	0x2e,
	0xde,
	0x04,
	0xcf,
	0xdd,
	0x2e,
	0xb9,
	0x11,
	0x59,
	0xe0,
	0x88,
	0x0a,
	0xa0,
	0x6e,
	0xd2,
	0x97,
	0x68,
	0x26,
	0xf7,
	0x96,
	0xb2,
	0x01,
	0xdf,
	0x31,
	0x31,
	0xa1,
	0x27,
	0xe8,
	0xa3,
	0x92,
};

enum { HDR = 12, CM_TAG = 10, GCM_TAG = 16, MAXPKT = 1500 };

/* AES-128 in counter mode over zeros or data: the KDF's PRF and SRTP's AES-CM alike. */
static int ref_ctr(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, uint8_t *out,
	int len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv) &&
		EVP_EncryptUpdate(c, out, &n, in, len) && n == len;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* RFC 3711 4.3.1 with kdr 0: x = salt XOR (label << 48), AES-CM keystream from IV x * 2^16.
 * GCM's 12-byte master salt enters zero-padded to 14 (RFC 7714 section 11). */
static void ref_kdf(const uint8_t mkey[16], const uint8_t *msalt, int salt_len, uint8_t label,
	uint8_t *out, int len)
{
	uint8_t iv[16] = { 0 }, zeros[64] = { 0 };

	memcpy(iv, msalt, salt_len);
	iv[7] ^= label;
	CU_ASSERT_FATAL(ref_ctr(mkey, iv, zeros, out, len) == 0);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* AES_CM_128_HMAC_SHA1_80 on an RTP packet with a 12-byte header, ROC 0 (RFC 3711 4.1.1, 4.2). */
static int ref_protect_cm(const uint8_t mkey[16], const uint8_t msalt[14], const uint8_t *pkt,
	int len, uint8_t *out)
{
	uint8_t ck[16], cs[14], ak[20], iv[16] = { 0 }, mac[EVP_MAX_MD_SIZE];
	uint32_t ssrc = be32(pkt + 8);
	unsigned int maclen = 0;

	ref_kdf(mkey, msalt, 14, 0x00, ck, 16);
	ref_kdf(mkey, msalt, 14, 0x01, ak, 20);
	ref_kdf(mkey, msalt, 14, 0x02, cs, 14);
	memcpy(iv, cs, 14);
	for (int i = 0; i < 4; i++)
		iv[4 + i] ^= ssrc >> (24 - 8 * i);
	iv[12] ^= pkt[2]; /* index = ROC(0) || SEQ, placed at bits 16..63 of the IV */
	iv[13] ^= pkt[3];
	memcpy(out, pkt, HDR);
	if (ref_ctr(ck, iv, pkt + HDR, out + HDR, len - HDR))
		return -1;
	/* the tag covers the packet then the ROC: borrow the tag's space for the ROC (0) */
	memset(out + len, 0, 4);
	if (!HMAC(EVP_sha1(), ak, 20, out, len + 4, mac, &maclen))
		return -1;
	memcpy(out + len, mac, CM_TAG);
	return len + CM_TAG;
}

/* AEAD_AES_128_GCM on an RTP packet with a 12-byte header, ROC 0, from session key and salt
 * (RFC 7714 8.1: IV = salt XOR 00 00 || SSRC || ROC || SEQ; AAD = the header). */
static int ref_protect_gcm_session(const uint8_t key[16], const uint8_t salt[12],
	const uint8_t *pkt, int len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t iv[12];
	int n = 0, f = 0, ok;

	memcpy(iv, salt, 12);
	for (int i = 0; i < 4; i++)
		iv[2 + i] ^= pkt[8 + i];
	iv[10] ^= pkt[2];
	iv[11] ^= pkt[3];
	memcpy(out, pkt, HDR);
	ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL) &&
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) &&
		EVP_EncryptInit_ex(c, NULL, NULL, key, iv) &&
		EVP_EncryptUpdate(c, NULL, &n, pkt, HDR) &&
		EVP_EncryptUpdate(c, out + HDR, &n, pkt + HDR, len - HDR) &&
		EVP_EncryptFinal_ex(c, out + HDR + n, &f) &&
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, out + len);
	EVP_CIPHER_CTX_free(c);
	return ok ? len + GCM_TAG : -1;
}

static int ref_protect_gcm(const uint8_t mkey[16], const uint8_t msalt[12], const uint8_t *pkt,
	int len, uint8_t *out)
{
	uint8_t k[16], s[12];

	ref_kdf(mkey, msalt, 12, 0x00, k, 16);
	ref_kdf(mkey, msalt, 12, 0x02, s, 12);
	return ref_protect_gcm_session(k, s, pkt, len, out);
}

/* A session for SSRC ssrc, key = master key || master salt; libsrtp takes the stream's
 * direction from its first use (protect or unprotect). */
static srtp_t session(int gcm, const uint8_t *key, uint32_t ssrc)
{
	srtp_policy_t p;
	srtp_t s = NULL;

	memset(&p, 0, sizeof(p));
	if (gcm) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&p.rtp);
		srtp_crypto_policy_set_rtcp_default(&p.rtcp);
	}
	p.ssrc.type = ssrc_specific;
	p.ssrc.value = ssrc;
	p.key = (unsigned char *)key;
	p.window_size = 128;
	CU_ASSERT_FATAL(srtp_create(&s, &p) == srtp_err_status_ok);
	return s;
}

/* Protect plain with libsrtp, compare to want, then unprotect it back to plain. */
static void check_libsrtp(int gcm, const uint8_t *key, const uint8_t *plain, int len,
	const uint8_t *want, int want_len)
{
	static uint8_t buf[MAXPKT + 64];
	srtp_t tx = session(gcm, key, be32(plain + 8));
	srtp_t rx = session(gcm, key, be32(plain + 8));
	int n = len;

	memcpy(buf, plain, len);
	CU_ASSERT_FATAL(srtp_protect(tx, buf, &n) == srtp_err_status_ok);
	CU_ASSERT_EQUAL(n, want_len);
	CU_ASSERT(n == want_len && memcmp(buf, want, n) == 0);
	CU_ASSERT_FATAL(srtp_unprotect(rx, buf, &n) == srtp_err_status_ok);
	CU_ASSERT(n == len && memcmp(buf, plain, len) == 0);
	srtp_dealloc(tx);
	srtp_dealloc(rx);
}

static void test_reference_kdf_rfc3711_b3(void)
{
	uint8_t k[16], s[14], a[20];

	ref_kdf(b3_master_key, b3_master_salt, 14, 0x00, k, 16);
	ref_kdf(b3_master_key, b3_master_salt, 14, 0x01, a, 20);
	ref_kdf(b3_master_key, b3_master_salt, 14, 0x02, s, 14);
	CU_ASSERT(memcmp(k, b3_cipher_key, 16) == 0);
	CU_ASSERT(memcmp(a, b3_auth_key, 20) == 0);
	CU_ASSERT(memcmp(s, b3_cipher_salt, 14) == 0);
}

static void test_reference_gcm_rfc7714_16(void)
{
	uint8_t out[128];

	CU_ASSERT_EQUAL(ref_protect_gcm_session(r7714_key, r7714_salt, r7714_plain,
				sizeof(r7714_plain), out),
		(int)sizeof(r7714_protected));
	CU_ASSERT(memcmp(out, r7714_protected, sizeof(r7714_protected)) == 0);
}

static void test_libsrtp_cm_vector(void)
{
	uint8_t key[30];

	memcpy(key, b3_master_key, 16);
	memcpy(key + 16, b3_master_salt, 14);
	check_libsrtp(0, key, lib_plain, sizeof(lib_plain), lib_cm_protected,
		sizeof(lib_cm_protected));
}

static void test_libsrtp_gcm_vector(void)
{
	check_libsrtp(1, lib_gcm_key, lib_plain, sizeof(lib_plain), lib_gcm_protected,
		sizeof(lib_gcm_protected));
}

/* An RTP packet of payload bytes: the SFU's audio and video sizes and odd ones. */
static int make_packet(uint8_t *p, uint16_t seq, uint32_t ssrc, int payload)
{
	p[0] = 0x80;
	p[1] = 0x6f;
	p[2] = seq >> 8;
	p[3] = seq;
	p[4] = 0x12, p[5] = 0x34, p[6] = 0x56, p[7] = 0x78;
	p[8] = ssrc >> 24, p[9] = ssrc >> 16, p[10] = ssrc >> 8, p[11] = ssrc;
	for (int i = 0; i < payload; i++)
		p[HDR + i] = (uint8_t)(i * 7 + seq);
	return HDR + payload;
}

static const int sizes[] = { 1, 15, 16, 17, 160, 1200 };

static void test_libsrtp_cm_matches_reference(void)
{
	static uint8_t pkt[MAXPKT], want[MAXPKT + 64];
	uint8_t key[30];

	memcpy(key, b3_master_key, 16);
	memcpy(key + 16, b3_master_salt, 14);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int len = make_packet(pkt, 0x1000 + 77 * i, 0x5501a0b2, sizes[i]);
		int n = ref_protect_cm(b3_master_key, b3_master_salt, pkt, len, want);

		CU_ASSERT_FATAL(n == len + CM_TAG);
		check_libsrtp(0, key, pkt, len, want, n);
	}
}

/* RFC 7714's key and salt used as master key and salt: libsrtp derives the session keys with
 * the AES-CM PRF, the reference does the same, then both run the RFC's AEAD. */
static void test_libsrtp_gcm_matches_reference(void)
{
	static uint8_t pkt[MAXPKT], want[MAXPKT + 64];
	uint8_t key[28];
	int n;

	memcpy(key, r7714_key, 16);
	memcpy(key + 16, r7714_salt, 12);
	n = ref_protect_gcm(r7714_key, r7714_salt, r7714_plain, sizeof(r7714_plain), want);
	CU_ASSERT_FATAL(n == (int)sizeof(r7714_plain) + GCM_TAG);
	check_libsrtp(1, key, r7714_plain, sizeof(r7714_plain), want, n);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int len = make_packet(pkt, 0xf17b + 13 * i, 0x5501a0b2, sizes[i]);

		n = ref_protect_gcm(r7714_key, r7714_salt, pkt, len, want);
		CU_ASSERT_FATAL(n == len + GCM_TAG);
		check_libsrtp(1, key, pkt, len, want, n);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "reference KDF = RFC 3711 B.3", test_reference_kdf_rfc3711_b3 },
		{ "reference AEAD = RFC 7714 16.1.1", test_reference_gcm_rfc7714_16 },
		{ "libsrtp AES-CM-SHA1-80 = libsrtp vector", test_libsrtp_cm_vector },
		{ "libsrtp AEAD-AES-128-GCM = libsrtp vector", test_libsrtp_gcm_vector },
		{ "libsrtp AES-CM-SHA1-80 = reference", test_libsrtp_cm_matches_reference },
		{ "libsrtp AEAD-AES-128-GCM = reference", test_libsrtp_gcm_matches_reference },
		{ NULL, NULL },
	};
	int rc;

	if (srtp_init() != srtp_err_status_ok)
		return 1;
	printf("%s\n", srtp_get_version_string());
	rc = unit_run("srtp_vectors", tests);
	srtp_shutdown();
	return rc;
}
