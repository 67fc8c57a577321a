/* Key and certificate files: the checks behind `turn certs` and the operator's `pki` commands
 * (list, inspect, match, verify). OpenSSL parses everything; this file only asks it questions
 * and says what it found in the operator's words, naming the file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli_int.h"
#include "pki.h"

#define PKI_MAX_FILE (1 << 20) /* no key or chain is this big; /dev/zero is */

/* A PEM file, decoded block by block; blocks of other kinds (EC PARAMETERS, PUBLIC KEY) are
 * passed over, as OpenSSL's own readers do. */
struct pem_file {
	STACK_OF(X509) * certs; /* in file order */
	EVP_PKEY *key;		/* the first unencrypted private key */
	X509_REQ *csr;		/* the first CSR */
	int n_keys, n_encrypted, n_csrs, n_blocks;
	bool der; /* no PEM at all, but it starts as DER does */
};

static int failf(char *err, size_t len, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int failf(char *err, size_t len, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return r;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

/* The whole of a regular file, at most PKI_MAX_FILE; freed with OPENSSL_clear_free since it
 * may hold a private key. Non-blocking open: a FIFO named by mistake must not hang the CLI. */
static int read_file(const char *path, unsigned char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0, size = 0;
	ssize_t n;
	int fd, r = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return failf(err, errlen, -errno, "cannot read %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = failf(err, errlen, -errno, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = failf(err, errlen, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
			"cannot read %s: not a regular file", path);
		goto out;
	}
	if (st.st_size > PKI_MAX_FILE) {
		r = failf(err, errlen, -EFBIG,
			"%s is larger than %d KiB: not a key or "
			"certificate file",
			path, PKI_MAX_FILE >> 10);
		goto out;
	}
	size = (size_t)st.st_size;
	*buf = OPENSSL_malloc(size + 1);
	if (!*buf) {
		r = failf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	while (got < size) {
		n = read(fd, *buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = failf(err, errlen, -errno, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break; /* shrank under us: take what is there */
		got += (size_t)n;
	}
	*len = got;
out:
	close(fd);
	if (r < 0) {
		OPENSSL_clear_free(*buf, size + 1);
		*buf = NULL;
	}
	return r;
}

static bool is_name(const char *name, const char *a, const char *b, const char *c)
{
	return !strcmp(name, a) || (b && !strcmp(name, b)) || (c && !strcmp(name, c));
}

static int pem_block(struct pem_file *pf, const char *name, const char *hdr,
	const unsigned char *der, long len, char *err, size_t errlen)
{
	const unsigned char *p = der;

	if (is_name(name, PEM_STRING_X509, PEM_STRING_X509_OLD, PEM_STRING_X509_TRUSTED)) {
		X509 *x = strcmp(name, PEM_STRING_X509_TRUSTED) ? d2i_X509(NULL, &p, len) :
								  d2i_X509_AUX(NULL, &p, len);

		if (!x)
			return failf(err, errlen, -EBADMSG, "certificate %d is damaged",
				sk_X509_num(pf->certs) + 1);
		if (!sk_X509_push(pf->certs, x)) {
			X509_free(x);
			return failf(err, errlen, -ENOMEM, "out of memory");
		}
	} else if (!strcmp(name, "OPENSSH PRIVATE KEY")) {
		return failf(err, errlen, -EBADMSG,
			"an OpenSSH private key: TLS needs PEM "
			"(ssh-keygen -p -m PKCS8 converts it)");
	} else if (strstr(name, "PRIVATE KEY")) { /* PKCS#8, or RSA/EC/DSA's own */
		pf->n_keys++;
		if (!strcmp(name, PEM_STRING_PKCS8) || (hdr && strstr(hdr, "ENCRYPTED"))) {
			pf->n_encrypted++;
			return 0;
		}
		if (pf->key)
			return 0;
		pf->key = d2i_AutoPrivateKey(NULL, &p, len);
		if (!pf->key)
			return failf(err, errlen, -EBADMSG,
				"private key is damaged, or of a kind "
				"OpenSSL cannot read");
	} else if (is_name(name, PEM_STRING_X509_REQ, PEM_STRING_X509_REQ_OLD, NULL)) {
		if (pf->n_csrs++)
			return 0;
		pf->csr = d2i_X509_REQ(NULL, &p, len);
		if (!pf->csr)
			return failf(err, errlen, -EBADMSG, "certificate request is damaged");
	}
	return 0;
}

static void pem_free(struct pem_file *pf)
{
	sk_X509_pop_free(pf->certs, X509_free);
	EVP_PKEY_free(pf->key);
	X509_REQ_free(pf->csr);
	memset(pf, 0, sizeof(*pf));
}

/* Reads and decodes @path. A file with no PEM in it loads as empty: what was wanted of it
 * is for the caller to say. -errno or -EBADMSG (a damaged block) with the reason in @err. */
static int pem_load(const char *path, struct pem_file *pf, char *err, size_t errlen)
{
	unsigned char *buf;
	size_t len;
	BIO *bio;
	int r;

	memset(pf, 0, sizeof(*pf));
	if ((r = read_file(path, &buf, &len, err, errlen)) < 0)
		return r;
	pf->certs = sk_X509_new_null();
	bio = BIO_new_mem_buf(buf, (int)len);
	if (!pf->certs || !bio) {
		r = failf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	ERR_clear_error();
	for (;;) {
		char *name = NULL, *hdr = NULL;
		unsigned char *der = NULL;
		long dlen = 0;

		if (!PEM_read_bio(bio, &name, &hdr, &der, &dlen)) {
			unsigned long e = ERR_peek_last_error();
			const char *why = ERR_reason_error_string(e);

			if (e &&
				(ERR_GET_LIB(e) != ERR_LIB_PEM ||
					ERR_GET_REASON(e) != PEM_R_NO_START_LINE))
				r = failf(err, errlen, -EBADMSG, "damaged PEM after block %d (%s)",
					pf->n_blocks, why ? why : "unreadable");
			break;
		}
		pf->n_blocks++;
		r = pem_block(pf, name, hdr, der, dlen, err, errlen);
		OPENSSL_free(name);
		OPENSSL_free(hdr);
		OPENSSL_clear_free(der, dlen > 0 ? (size_t)dlen : 0);
		if (r < 0)
			break;
	}
	pf->der = !pf->n_blocks && len > 1 && buf[0] == 0x30;
out:
	ERR_clear_error();
	BIO_free(bio);
	OPENSSL_clear_free(buf, len + 1);
	if (r < 0)
		pem_free(pf);
	return r;
}

static int want_key(const struct pem_file *pf, char *err, size_t errlen)
{
	if (pf->key)
		return 0;
	if (pf->n_encrypted)
		return failf(err, errlen, -EBADMSG,
			"the private key is encrypted (no passphrase "
			"can be given: decrypt it with openssl pkey)");
	return failf(err, errlen, -EBADMSG, "not a private key (PEM)%s",
		sk_X509_num(pf->certs) ? ": it holds a certificate" :
			pf->der ? ": it looks like DER (convert it with openssl pkey -inform der)" :
				  "");
}

static int want_certs(const struct pem_file *pf, char *err, size_t errlen)
{
	if (sk_X509_num(pf->certs))
		return 0;
	return failf(err, errlen, -EBADMSG, "not a certificate (PEM)%s",
		pf->n_keys	   ? ": it holds a private key" :
			pf->n_csrs ? ": it holds a CSR" :
			pf->der ? ": it looks like DER (convert it with openssl x509 -inform der)" :
				  "");
}

/* --- what a certificate or key says, as text --- */

static char *name_str(const X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());

	buf[0] = '\0';
	if (!b)
		return buf;
	/* RFC 2253 order (CN first), UTF-8 left as is */
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		int got = BIO_read(b, buf, (int)len - 1);

		buf[got > 0 ? got : 0] = '\0';
	}
	BIO_free(b);
	if (!buf[0])
		snprintf(buf, len, "(empty)");
	return buf;
}

static char *time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "(unreadable date)");
	return buf;
}

enum validity { VALID, EXPIRED, NOT_YET_VALID };

static enum validity cert_validity(const X509 *x)
{
	if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
		return EXPIRED; /* 0 is an unreadable date: not valid either */
	if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0)
		return NOT_YET_VALID;
	return VALID;
}

static char *key_str(const EVP_PKEY *k, char *buf, size_t len)
{
	char group[64] = "";
	const char *type, *nist = NULL;
	int id = EVP_PKEY_get_base_id(k);

	switch (id) {
	case EVP_PKEY_RSA:
		type = "RSA";
		break;
	case EVP_PKEY_RSA_PSS:
		type = "RSA-PSS";
		break;
	case EVP_PKEY_EC:
		type = "EC";
		if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
			    sizeof(group), NULL))
			nist = EC_curve_nid2nist(OBJ_txt2nid(group));
		break;
	case EVP_PKEY_ED25519:
		type = "Ed25519";
		break;
	case EVP_PKEY_ED448:
		type = "Ed448";
		break;
	default:
		type = EVP_PKEY_get0_type_name(k);
		if (!type)
			type = id != NID_undef ? OBJ_nid2sn(id) : "unknown key type";
	}
	snprintf(buf, len, "%s%s%s, %d bits", type, group[0] ? " " : "", nist ? nist : group,
		EVP_PKEY_get_bits(k));
	return buf;
}

/* @s as text fit for a terminal: a name in a certificate is anyone's choice. */
static int clean_str(char *buf, size_t len, const char *sep, const char *kind, const ASN1_STRING *s)
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s), off;

	off = snprintf(buf, len, "%s%s:", sep, kind);
	for (int i = 0; i < n && off >= 0 && (size_t)off + 1 < len; i++)
		buf[off++] = p[i] < 0x20 || p[i] == 0x7f ? '?' : (char)p[i];
	if (off >= 0 && (size_t)off < len)
		buf[off] = '\0';
	return off;
}

/* DNS, IP and the rarer kinds, "none" without any. */
static char *san_str(const GENERAL_NAMES *gens, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < sk_GENERAL_NAME_num(gens) && off < len; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *v = g->d.ia5; /* DNS, email, URI, IP: all strings */
		const char *sep = off ? ", " : "", *kind;
		int n, vlen = ASN1_STRING_length(v);

		switch (g->type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			kind = g->type == GEN_DNS ? "DNS" : g->type == GEN_URI ? "URI" : "email";
			n = clean_str(buf + off, len - off, sep, kind, v);
			break;
		case GEN_IPADD:
			if (vlen != 4 && vlen != 16) {
				n = snprintf(buf + off, len - off, "%sIP:(malformed)", sep);
			} else {
				char ip[INET6_ADDRSTRLEN];

				n = snprintf(buf + off, len - off, "%sIP:%s", sep,
					inet_ntop(vlen == 4 ? AF_INET : AF_INET6,
						ASN1_STRING_get0_data(v), ip, sizeof(ip)));
			}
			break;
		default:
			n = snprintf(buf + off, len - off, "%s(other)", sep);
		}
		off += n > 0 ? (size_t)n : 0;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}

static char *serial_str(const X509 *x, char *buf, size_t len)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(x);
	const unsigned char *p = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s);
	size_t off = 0;

	off = snprintf(buf, len, "%s", ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER ? "-" : "");
	for (int i = 0; i < n && off + 4 <= len; i++)
		off += snprintf(buf + off, len - off, "%s%02x", i ? ":" : "", p[i]);
	if (!n)
		snprintf(buf, len, "00");
	return buf;
}

/* --- pki_check_pair --- */

/* Every certificate of @certs issued by the next one, each valid now. */
static int chain_check(STACK_OF(X509) * certs, char *err, size_t errlen)
{
	char a[256], b[256], t[40];
	int n = sk_X509_num(certs);

	for (int i = 1; i < n; i++) {
		X509 *issuer = sk_X509_value(certs, i), *x = sk_X509_value(certs, i - 1);

		if (X509_check_issued(issuer, x) != X509_V_OK)
			return failf(err, errlen, -EBADMSG,
				"certificate %d (%s) is not the "
				"issuer of certificate %d (%s): expected the server certificate "
				"first, then each issuer in turn",
				i + 1, name_str(X509_get_subject_name(issuer), a, sizeof(a)), i,
				name_str(X509_get_subject_name(x), b, sizeof(b)));
	}
	for (int i = 0; i < n; i++) {
		const X509 *x = sk_X509_value(certs, i);
		enum validity v = cert_validity(x);

		if (v == VALID)
			continue;
		if (i)
			snprintf(a, sizeof(a), "certificate %d (%s)", i + 1,
				name_str(X509_get_subject_name(x), b, sizeof(b)));
		else
			snprintf(a, sizeof(a), "certificate");
		if (v == EXPIRED)
			return failf(err, errlen, -EKEYEXPIRED, "%s expired on %s", a,
				time_str(X509_get0_notAfter(x), t, sizeof(t)));
		return failf(err, errlen, -EKEYEXPIRED, "%s not yet valid (valid from %s)", a,
			time_str(X509_get0_notBefore(x), t, sizeof(t)));
	}
	return 0;
}

/* The index of the certificate of @certs that @key belongs to, or -1. */
static int key_owner(STACK_OF(X509) * certs, EVP_PKEY *key)
{
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (X509_check_private_key(sk_X509_value(certs, i), key) == 1)
			return i;
	ERR_clear_error();
	return -1;
}

int pki_check_pair(const char *key, const char *cert, const char *bundle, char *err, size_t errlen)
{
	struct pem_file k = { 0 }, c = { 0 }, b = { 0 };
	char why[512];
	int r;

	err[0] = '\0';
	if ((r = pem_load(key, &k, why, sizeof(why))) < 0 ||
		(r = want_key(&k, why, sizeof(why))) < 0) {
		failf(err, errlen, r, "%s: %s", base_name(key), why);
		goto out;
	}
	if ((r = pem_load(cert, &c, why, sizeof(why))) < 0 ||
		(r = want_certs(&c, why, sizeof(why))) < 0 ||
		(r = chain_check(c.certs, why, sizeof(why))) < 0) {
		failf(err, errlen, r, "%s: %s", base_name(cert), why);
		goto out;
	}
	if (X509_check_private_key(sk_X509_value(c.certs, 0), k.key) != 1) {
		int i = key_owner(c.certs, k.key);
		char hint[300] = "", s[256];

		if (i > 0) /* a likely slip: worth saying */
			snprintf(hint, sizeof(hint),
				" (it is certificate %d's, %s: the server "
				"certificate goes first)",
				i + 1,
				name_str(X509_get_subject_name(sk_X509_value(c.certs, i)), s,
					sizeof(s)));
		r = failf(err, errlen, -EKEYREJECTED, "%s does not match the certificate in %s%s",
			base_name(key), base_name(cert), hint);
		goto out;
	}
	if (bundle && *bundle &&
		((r = pem_load(bundle, &b, why, sizeof(why))) < 0 ||
			(r = want_certs(&b, why, sizeof(why))) < 0)) {
		failf(err, errlen, r, "%s: %s", base_name(bundle), why);
		goto out;
	}
out:
	ERR_clear_error();
	pem_free(&k);
	pem_free(&c);
	pem_free(&b);
	return r;
}

/* --- the `pki` commands --- */

struct pki_sub {
	const char *name, *usage, *help;
	int min_args, max_args; /* words after the subcommand */
	int (*run)(struct cli *cli, int argc, char **argv, FILE *out);
};

int pki_cli_file(struct cli *cli, const char *cmd, const char *word, char *path, size_t len,
	FILE *out)
{
	struct stat st;
	int r = pki_path(cli->cfg->cert_dir, word, path, len);

	if (r == -ENAMETOOLONG)
		return cli_refuse(out, "%s: '%s': name too long", cmd, word);
	if (r < 0)
		return cli_refuse(out, "%s: '%s': not a file name", cmd, word);
	if (stat(path, &st) < 0 || access(path, R_OK) < 0)
		return cli_refuse(out, "%s: '%s': cannot read %s: %s", cmd, word, path,
			strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cli_refuse(out, "%s: '%s': %s is not a regular file", cmd, word, path);
	return 0;
}

/* A key or certificate file that must exist: its path to @path, the name as typed to @dst. */
int pki_cli_name(struct cli *cli, const char *cmd, const char *word, char *path, size_t plen,
	char *dst, size_t len, FILE *out)
{
	int r;

	if (strlen(word) >= len)
		return cli_refuse(out, "%s: '%s': name too long (at most %zu characters)", cmd,
			word, len - 1);
	if ((r = pki_cli_file(cli, cmd, word, path, plen, out)) < 0)
		return r;
	snprintf(dst, len, "%s", word);
	return 0;
}

/* `... certs <key> <cert> [<bundle>]`: the key must be the certificate's, the chain in order
 * and valid now, the bundle hold certificates; as `turn certs`. */
int pki_cli_certs(struct cli *cli, const char *cmd, int argc, char **argv, char *key, char *cert,
	char *bundle, size_t len, FILE *out)
{
	char kp[512], cp[512], bp[512] = "", err[512];
	int r;

	if ((r = pki_cli_name(cli, cmd, argv[1], kp, sizeof(kp), key, len, out)) < 0 ||
		(r = pki_cli_name(cli, cmd, argv[2], cp, sizeof(cp), cert, len, out)) < 0)
		return r;
	if (bundle) {
		bundle[0] = '\0';
		if (argc > 3 &&
			(r = pki_cli_name(cli, cmd, argv[3], bp, sizeof(bp), bundle, len, out)) < 0)
			return r;
	}
	if (pki_check_pair(kp, cp, bp, err, sizeof(err)) < 0)
		return cli_refuse(out, "%s: %s", cmd, err);
	fprintf(out, "SUCCESS: Key and certificate pair match\n");
	return 0;
}

/* @word's file, loaded; a refusal naming it otherwise. */
static int load_word(struct cli *cli, const char *cmd, const char *word, struct pem_file *pf,
	FILE *out)
{
	char path[512], why[512];
	int r;

	memset(pf, 0, sizeof(*pf));
	if ((r = pki_cli_file(cli, cmd, word, path, sizeof(path), out)) < 0)
		return r;
	if (pem_load(path, pf, why, sizeof(why)) < 0)
		return cli_refuse(out, "%s: '%s': %s", cmd, word, why);
	return 0;
}

static void field(FILE *out, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void field(FILE *out, const char *label, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "%-24s: ", label);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

static void show_cert(X509 *x, int i, int n, FILE *out)
{
	char s[512], t[40];
	enum validity v = cert_validity(x);
	uint32_t flags = X509_get_extension_flags(x);
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	EVP_PKEY *pub = X509_get0_pubkey(x);
	long pathlen = X509_get_pathlen(x);

	field(out, "Certificate", "%d of %d", i + 1, n);
	field(out, "Subject", "%s", name_str(X509_get_subject_name(x), s, sizeof(s)));
	field(out, "Issuer", "%s%s", name_str(X509_get_issuer_name(x), s, sizeof(s)),
		flags & EXFLAG_SS ? " (self-signed)" : "");
	field(out, "Serial", "%s", serial_str(x, s, sizeof(s)));
	field(out, "Not before", "%s%s", time_str(X509_get0_notBefore(x), t, sizeof(t)),
		v == NOT_YET_VALID ? " (not yet valid)" : "");
	field(out, "Not after", "%s%s", time_str(X509_get0_notAfter(x), t, sizeof(t)),
		v == EXPIRED ? " (EXPIRED)" : "");
	field(out, "Subject alt names", "%s", san_str(sans, s, sizeof(s)));
	field(out, "Public key", "%s", pub ? key_str(pub, s, sizeof(s)) : "(unreadable)");
	field(out, "Signature algorithm", "%s", OBJ_nid2ln(X509_get_signature_nid(x)));
	if (flags & EXFLAG_XKUSAGE) {
		uint32_t xku = X509_get_extended_key_usage(x);

		bool srv = xku & XKU_SSL_SERVER, cln = xku & XKU_SSL_CLIENT;

		field(out, "Extended key usage", "%s%s%s", srv ? "TLS server" : "",
			srv && cln ? ", " : "",
			cln	    ? "TLS client" :
				srv ? "" :
				      "not for TLS");
	}
	if (X509_check_ca(x) && pathlen >= 0)
		field(out, "CA", "yes (path length %ld)", pathlen);
	else
		field(out, "CA", "%s", X509_check_ca(x) ? "yes" : "no");
	GENERAL_NAMES_free(sans);
	ERR_clear_error();
}

static void show_csr(X509_REQ *req, FILE *out)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES *sans = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
	EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
	char s[512];

	field(out, "Certificate request", "%s",
		name_str(X509_REQ_get_subject_name(req), s, sizeof(s)));
	field(out, "Subject alt names", "%s", san_str(sans, s, sizeof(s)));
	field(out, "Public key", "%s", pub ? key_str(pub, s, sizeof(s)) : "(unreadable)");
	field(out, "Signature", "%s", X509_REQ_verify(req, pub) == 1 ? "valid" : "INVALID");
	GENERAL_NAMES_free(sans);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
}

static int sub_inspect(struct cli *cli, int argc, char **argv, FILE *out)
{
	struct pem_file pf;
	char s[128];
	int n, r;

	(void)argc;
	if ((r = load_word(cli, "pki inspect", argv[1], &pf, out)) < 0)
		return r;
	n = sk_X509_num(pf.certs);
	if (!n && !pf.n_keys && !pf.n_csrs) {
		r = cli_refuse(out, "pki inspect: '%s': not a key, certificate or CSR (PEM)%s",
			argv[1], pf.der ? ": it looks like DER" : "");
		goto out;
	}
	/* sections in the file's kinds, a blank line between them */
	for (int i = 0; i < n; i++) {
		fputs(i ? "\n" : "", out);
		show_cert(sk_X509_value(pf.certs, i), i, n, out);
	}
	if (pf.n_keys)
		fputs(n ? "\n" : "", out);
	if (pf.key)
		field(out, "Private key", "%s", key_str(pf.key, s, sizeof(s)));
	if (pf.n_encrypted)
		field(out, "Private key",
			"encrypted (no passphrase can be given: decrypt it "
			"first)");
	if (pf.csr) {
		fputs(n || pf.n_keys ? "\n" : "", out);
		show_csr(pf.csr, out);
	}
out:
	pem_free(&pf);
	return r;
}

static int sub_match(struct cli *cli, int argc, char **argv, FILE *out)
{
	struct pem_file k, c = { 0 };
	char why[256];
	int r;

	(void)argc;
	if ((r = load_word(cli, "pki match", argv[1], &k, out)) < 0)
		return r;
	if (want_key(&k, why, sizeof(why)) < 0) {
		r = cli_refuse(out, "pki match: '%s': %s", argv[1], why);
		goto out;
	}
	if ((r = load_word(cli, "pki match", argv[2], &c, out)) < 0)
		goto out;
	if (want_certs(&c, why, sizeof(why)) < 0) {
		r = cli_refuse(out, "pki match: '%s': %s", argv[2], why);
		goto out;
	}
	if (X509_check_private_key(sk_X509_value(c.certs, 0), k.key) != 1)
		r = cli_refuse(out, "pki match: '%s' does not match the certificate in '%s'",
			argv[1], argv[2]);
	else
		fprintf(out, "SUCCESS: Key and certificate pair match\n");
out:
	ERR_clear_error();
	pem_free(&k);
	pem_free(&c);
	return r;
}

/* `pki verify <cert> [<bundle>] <ca>`: the chain in <cert>, helped by <bundle>'s
 * intermediates, up to a certificate of <ca>, which is trusted as it is (root or not). */
static int sub_verify(struct cli *cli, int argc, char **argv, FILE *out)
{
	struct pem_file f[3] = { 0 };
	const char *words[3] = { argv[1], argc == 4 ? argv[2] : NULL, argv[argc - 1] };
	STACK_OF(X509) *untrusted = sk_X509_new_null(), *chain = NULL;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	char why[256], s[512];
	int r = 0;

	if (!untrusted || !store || !ctx) {
		r = cli_refuse(out, "pki verify: out of memory");
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		if (!words[i])
			continue;
		if ((r = load_word(cli, "pki verify", words[i], &f[i], out)) < 0)
			goto out;
		if (want_certs(&f[i], why, sizeof(why)) < 0) {
			r = cli_refuse(out, "pki verify: '%s': %s", words[i], why);
			goto out;
		}
		for (int j = 0; j < sk_X509_num(f[i].certs); j++) {
			X509 *x = sk_X509_value(f[i].certs, j);

			if (i == 2 ? !X509_STORE_add_cert(store, x) :
				     j + i > 0 && !sk_X509_push(untrusted, x)) {
				r = cli_refuse(out, "pki verify: out of memory");
				goto out;
			}
		}
	}
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (!X509_STORE_CTX_init(ctx, store, sk_X509_value(f[0].certs, 0), untrusted) ||
		!X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER)) {
		r = cli_refuse(out, "pki verify: out of memory");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		X509 *bad = X509_STORE_CTX_get_current_cert(ctx);

		if (bad)
			name_str(X509_get_subject_name(bad), s, sizeof(s));
		r = cli_refuse(out, "pki verify: '%s': %s at depth %d (%s)", words[0],
			X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)),
			X509_STORE_CTX_get_error_depth(ctx), bad ? s : "no certificate");
		goto out;
	}
	chain = X509_STORE_CTX_get1_chain(ctx);
	fprintf(out, "SUCCESS: Certificate verified\n");
	for (int i = 0; i < sk_X509_num(chain); i++)
		fprintf(out, "  depth %d: %s%s\n", i,
			name_str(X509_get_subject_name(sk_X509_value(chain, i)), s, sizeof(s)),
			i == sk_X509_num(chain) - 1 ? " (trust anchor)" : "");
out:
	ERR_clear_error();
	sk_X509_pop_free(chain, X509_free);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted); /* borrowed from f[] */
	for (int i = 0; i < 3; i++)
		pem_free(&f[i]);
	return r;
}

/* One line for `pki list`: what the file holds, in a few words. */
static void describe(const char *path, char *buf, size_t len)
{
	struct pem_file pf;
	char why[512], s[256];
	size_t off = 0;
	int n;

	if ((n = pem_load(path, &pf, why, sizeof(why))) < 0) {
		snprintf(buf, len, "%s: %s", n == -EBADMSG ? "damaged" : "unreadable", why);
		return;
	}
	buf[0] = '\0';
	if (pf.key)
		off += snprintf(buf + off, len - off, "private key (%s)",
			key_str(pf.key, s, sizeof(s)));
	else if (pf.n_encrypted)
		off += snprintf(buf + off, len - off, "private key (encrypted)");
	if ((n = sk_X509_num(pf.certs)) && off < len) {
		X509 *x = sk_X509_value(pf.certs, 0);
		enum validity v = cert_validity(x);
		bool early = v == NOT_YET_VALID;
		char t[40];

		off += snprintf(buf + off, len - off, "%scertificate (%d in chain): %s, %s %.10s",
			off ? "; " : "", n, name_str(X509_get_subject_name(x), s, sizeof(s)),
			v == EXPIRED  ? "EXPIRED" :
				early ? "not valid until" :
					"expires",
			time_str(early ? X509_get0_notBefore(x) : X509_get0_notAfter(x), t,
				sizeof(t)));
	}
	if (pf.csr && off < len)
		snprintf(buf + off, len - off, "%sCSR: %s", off ? "; " : "",
			name_str(X509_REQ_get_subject_name(pf.csr), s, sizeof(s)));
	if (!buf[0])
		snprintf(buf, len, "not a key, certificate or CSR%s", pf.der ? " (DER?)" : "");
	pem_free(&pf);
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int sub_list(struct cli *cli, int argc, char **argv, FILE *out)
{
	const char *dir = cli->cfg->cert_dir;
	struct dirent **names;
	char path[512], what[1024];
	int n, width = 8, shown = 0;

	(void)argc, (void)argv;
	n = scandir(dir, &names, not_hidden, alphasort);
	if (n < 0)
		return cli_refuse(out, "pki list: cannot read %s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++)
		if ((int)strlen(names[i]->d_name) > width)
			width = (int)strlen(names[i]->d_name);
	for (int i = 0; i < n; i++) {
		struct stat st;

		if (pki_path(dir, names[i]->d_name, path, sizeof(path)) == 0 &&
			(stat(path, &st) < 0 || !S_ISDIR(st.st_mode))) {
			describe(path, what, sizeof(what));
			fprintf(out, "%-*s  %s\n", width, names[i]->d_name, what);
			shown++;
		}
		free(names[i]);
	}
	free(names);
	if (!shown)
		fprintf(out, "no files in %s\n", dir);
	return 0;
}

static const struct pki_sub subs[] = {
	{ "list", "pki list", "files in the certificate directory and what each holds", 0, 0,
		sub_list },
	{ "inspect", "pki inspect <file>",
		"each certificate: subject, issuer, dates, names, key; or the key's type", 1, 1,
		sub_inspect },
	{ "match", "pki match <key> <cert>", "whether the key belongs to the certificate", 2, 2,
		sub_match },
	{ "verify", "pki verify <cert> [<bundle>] <ca>",
		"the certificate's chain, with the bundle's intermediates, up to a CA in <ca>", 2,
		3, sub_verify },
	{ NULL, NULL, NULL, 0, 0, NULL },
};

#define PKI_USAGE "pki list | inspect <file> | match <key> <cert> | verify <cert> [<bundle>] <ca>"

void pki_cli_help(FILE *out)
{
	fprintf(out, "  files are bare names in the certificate directory, or paths\n");
	for (const struct pki_sub *s = subs; s->name; s++)
		fprintf(out, "  %-66s %s\n", s->usage, s->help);
}

int pki_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	(void)ctx;
	if (argc < 2)
		return cli_refuse(out, "pki: missing subcommand (usage: %s)", PKI_USAGE);
	for (const struct pki_sub *s = subs; s->name; s++) {
		if (strcmp(argv[1], s->name))
			continue;
		if (argc - 2 < s->min_args || argc - 2 > s->max_args)
			return cli_refuse(out, "pki %s: %s words (usage: %s)", s->name,
				argc - 2 < s->min_args ? "missing" : "too many", s->usage);
		return s->run(cli, argc - 1, argv + 1, out);
	}
	return cli_refuse(out, "pki: '%s': unknown subcommand (usage: %s)", argv[1], PKI_USAGE);
}
