/* Key and certificate files: pki_check_pair refuses every bad pair with a message naming the
 * file and the problem, and the `pki` commands say what the files hold, whether a key is a
 * certificate's, and whether a chain verifies. Keys and certificates are made at run time. */
#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "cli.h"
#include "edge_log.h"
#include "pki.h"
#include "test_certs.h"

static struct tc_lab lab;
static struct edge_cfg running;
static const struct cli_ops ops; /* pki changes no configuration */
static struct cli cli;
static char *out_text;
static char err[512];

static const struct tc_spec expired_spec = { .cn = "edge.lab.example",
	.not_before = "20190101000000Z",
	.not_after = "20200101000000Z" };
static const struct tc_spec future_spec = { .cn = "edge.lab.example",
	.not_before = "20990101000000Z",
	.not_after = "21000101000000Z" };

/* Runs @line; returns its status and leaves its answer in out_text. */
static int run(const char *line)
{
	size_t len;
	FILE *f;
	int rc;

	free(out_text);
	out_text = NULL;
	f = open_memstream(&out_text, &len);
	rc = cli_exec(&cli, line, f);
	fclose(f);
	return rc;
}

static void setup(void)
{
	CU_ASSERT_FATAL(tc_lab_make(&lab) == 0);
	cli_init(&cli, &running, &ops, NULL);
	cfg_defaults(&running);
	snprintf(running.cert_dir, sizeof(running.cert_dir), "%s", lab.dir);
	err[0] = '\0';
}

static void teardown(void)
{
	tc_lab_free(&lab);
	free(out_text);
	out_text = NULL;
}

static char *path_of(const char *name)
{
	static char bufs[3][512];
	static int next;
	char *p = bufs[next++ % 3];

	snprintf(p, sizeof(bufs[0]), "%s/%s", lab.dir, name);
	return p;
}

static int check(const char *key, const char *cert, const char *bundle)
{
	return pki_check_pair(path_of(key), path_of(cert), bundle ? path_of(bundle) : NULL, err,
		sizeof(err));
}

/* @text, or a report of what came instead. */
static void expect_text(const char *got, const char *want)
{
	if (strcmp(got ? got : "(null)", want))
		fprintf(stderr, "\n--- got:\n%s\n--- want:\n%s\n", got ? got : "(null)", want);
	CU_ASSERT_STRING_EQUAL(got ? got : "(null)", want);
}

static void expect_in(const char *got, const char *want)
{
	if (!got || !strstr(got, want))
		fprintf(stderr, "\n--- got:\n%s\n--- wanted in it:\n%s\n", got ? got : "(null)",
			want);
	CU_ASSERT_PTR_NOT_NULL(got ? strstr(got, want) : NULL);
}

/* A leaf for the lab's key with @spec's dates, signed by the lab CA, written as @name. */
static void write_leaf(const struct tc_spec *spec, const char *name, bool with_ca)
{
	X509 *x = tc_cert(spec, lab.key, lab.ca, lab.ca_key);
	X509 *chain[] = { x, lab.ca };

	CU_ASSERT_FATAL(x != NULL);
	CU_ASSERT_FATAL(tc_write(lab.dir, name, NULL, chain, with_ca ? 2 : 1) == 0);
	X509_free(x);
}

static void test_path(void)
{
	char buf[64];

	CU_ASSERT_EQUAL(pki_path("/etc/edge/certs", "edge.key", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "/etc/edge/certs/edge.key");
	CU_ASSERT_EQUAL(pki_path("/etc/edge/certs/", "edge.key", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "/etc/edge/certs/edge.key");
	CU_ASSERT_EQUAL(pki_path("/etc/edge/certs", "/srv/tls/edge.key", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "/srv/tls/edge.key");
	CU_ASSERT_EQUAL(pki_path("/etc/edge/certs", "old/edge.key", buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "old/edge.key");
	CU_ASSERT_EQUAL(pki_path("/etc/edge/certs", "edge.key", buf, 24), -ENAMETOOLONG);
	CU_ASSERT_EQUAL(pki_path("/etc/edge/certs", "edge.key", buf, 25), 0);
	CU_ASSERT_EQUAL(pki_path("/etc/edge/certs", "", buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(pki_path("/etc/edge/certs", "..", buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(pki_path("", "edge.key", buf, sizeof(buf)), -EINVAL);
}

static void test_good_pair(void)
{
	setup();
	CU_ASSERT_EQUAL(check("edge.key", "cmsedge-fullchain.cer", NULL), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(check("edge.key", "edge.cer", "ca.pem"), 0);
	CU_ASSERT_EQUAL(pki_check_pair(path_of("edge.key"), path_of("edge.cer"), "", err,
				sizeof(err)),
		0);
	teardown();
}

static void test_mismatch(void)
{
	EVP_PKEY *other = tc_key();

	setup();
	CU_ASSERT_FATAL(tc_write(lab.dir, "other.key", other, NULL, 0) == 0);
	CU_ASSERT_EQUAL(check("other.key", "cmsedge-fullchain.cer", NULL), -EKEYREJECTED);
	expect_text(err, "other.key does not match the certificate in cmsedge-fullchain.cer");
	/* the CA's key matches a certificate of the file, but not the first */
	CU_ASSERT_FATAL(tc_write(lab.dir, "ca.key", lab.ca_key, NULL, 0) == 0);
	CU_ASSERT_EQUAL(check("ca.key", "cmsedge-fullchain.cer", NULL), -EKEYREJECTED);
	expect_text(err,
		"ca.key does not match the certificate in cmsedge-fullchain.cer (it is "
		"certificate 2's, CN=Edge Lab CA: the server certificate goes first)");
	EVP_PKEY_free(other);
	teardown();
}

static void test_expired(void)
{
	setup();
	write_leaf(&expired_spec, "expired.cer", true);
	CU_ASSERT_EQUAL(check("edge.key", "expired.cer", NULL), -EKEYEXPIRED);
	expect_text(err, "expired.cer: certificate expired on 2020-01-01 00:00:00 UTC");
	teardown();
}

static void test_not_yet_valid(void)
{
	setup();
	write_leaf(&future_spec, "future.cer", false);
	CU_ASSERT_EQUAL(check("edge.key", "future.cer", NULL), -EKEYEXPIRED);
	expect_text(err,
		"future.cer: certificate not yet valid "
		"(valid from 2099-01-01 00:00:00 UTC)");
	teardown();
}

/* An expired issuer in the chain, and a chain upside down. */
static void test_chain(void)
{
	const struct tc_spec old_ca = { .cn = "Edge Lab CA",
		.ca = true,
		.serial = 1,
		.not_before = "20190101000000Z",
		.not_after = "20200101000000Z" };
	X509 *ca;

	setup();
	CU_ASSERT_FATAL((ca = tc_cert(&old_ca, lab.ca_key, NULL, NULL)) != NULL);
	X509 *expired[] = { lab.leaf, ca }, *reversed[] = { lab.ca, lab.leaf };
	CU_ASSERT_FATAL(tc_write(lab.dir, "old-chain.cer", NULL, expired, 2) == 0);
	CU_ASSERT_FATAL(tc_write(lab.dir, "reversed.cer", NULL, reversed, 2) == 0);
	CU_ASSERT_EQUAL(check("edge.key", "old-chain.cer", NULL), -EKEYEXPIRED);
	expect_text(err,
		"old-chain.cer: certificate 2 (CN=Edge Lab CA) expired on "
		"2020-01-01 00:00:00 UTC");
	CU_ASSERT_EQUAL(check("edge.key", "reversed.cer", NULL), -EBADMSG);
	expect_in(err,
		"reversed.cer: certificate 2 (CN=edge.lab.example) is not the issuer of "
		"certificate 1 (CN=Edge Lab CA)");
	X509_free(ca);
	teardown();
}

static void test_garbage_key(void)
{
	setup();
	CU_ASSERT_FATAL(tc_write_text(lab.dir, "garbage.key", "this is not a key\n") == 0);
	CU_ASSERT_EQUAL(check("garbage.key", "edge.cer", NULL), -EBADMSG);
	expect_text(err, "garbage.key: not a private key (PEM)");
	/* key and certificate swapped */
	CU_ASSERT_EQUAL(check("edge.cer", "edge.key", NULL), -EBADMSG);
	expect_text(err, "edge.cer: not a private key (PEM): it holds a certificate");
	CU_ASSERT_FATAL(tc_write_text(lab.dir, "damaged.key",
				"-----BEGIN PRIVATE KEY-----\n"
				"!!!! not base64 !!!!\n-----END PRIVATE KEY-----\n") == 0);
	CU_ASSERT_EQUAL(check("damaged.key", "edge.cer", NULL), -EBADMSG);
	expect_in(err, "damaged.key: damaged PEM");
	CU_ASSERT_FATAL(tc_write_text(lab.dir, "damaged.cer",
				"-----BEGIN CERTIFICATE-----\n"
				"MIIBAAAA\n-----END CERTIFICATE-----\n") == 0);
	CU_ASSERT_EQUAL(check("edge.key", "damaged.cer", NULL), -EBADMSG);
	expect_text(err, "damaged.cer: certificate 1 is damaged");
	CU_ASSERT_FATAL(tc_write_text(lab.dir, "id_ed25519",
				"-----BEGIN OPENSSH PRIVATE KEY-----\n"
				"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n"
				"-----END OPENSSH PRIVATE KEY-----\n") == 0);
	CU_ASSERT_EQUAL(check("id_ed25519", "edge.cer", NULL), -EBADMSG);
	expect_in(err, "id_ed25519: an OpenSSH private key");
	teardown();
}

static void test_encrypted_key(void)
{
	FILE *f;

	setup();
	f = fopen(path_of("locked.key"), "w");
	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT(PEM_write_PrivateKey(f, lab.key, EVP_aes_128_cbc(), (unsigned char *)"secret", 6,
			  NULL, NULL) == 1);
	fclose(f);
	CU_ASSERT_EQUAL(check("locked.key", "edge.cer", NULL), -EBADMSG); /* and no prompt */
	expect_in(err, "locked.key: the private key is encrypted");
	teardown();
}

static void test_missing_file(void)
{
	char want[700];

	setup();
	CU_ASSERT_EQUAL(check("nokey.key", "edge.cer", NULL), -ENOENT);
	snprintf(want, sizeof(want),
		"nokey.key: cannot read %s/nokey.key: "
		"No such file or directory",
		lab.dir);
	expect_text(err, want);
	CU_ASSERT_EQUAL(check("edge.key", "nocert.cer", NULL), -ENOENT);
	expect_in(err, "nocert.cer: cannot read");
	CU_ASSERT_EQUAL(pki_check_pair(path_of("edge.key"), lab.dir, NULL, err, sizeof(err)),
		-EISDIR);
	teardown();
}

static void test_bundle(void)
{
	setup();
	CU_ASSERT_FATAL(tc_write_text(lab.dir, "bundle.pem", "garbage\n") == 0);
	CU_ASSERT_EQUAL(check("edge.key", "edge.cer", "bundle.pem"), -EBADMSG);
	expect_text(err, "bundle.pem: not a certificate (PEM)");
	CU_ASSERT_EQUAL(check("edge.key", "edge.cer", "edge.key"), -EBADMSG);
	expect_text(err, "edge.key: not a certificate (PEM): it holds a private key");
	CU_ASSERT_EQUAL(check("edge.key", "edge.cer", "nobundle.pem"), -ENOENT);
	teardown();
}

/* RSA, Ed25519 and an EC key in its own (pre-PKCS#8) PEM form all load. */
static void test_key_types(void)
{
	const struct tc_spec spec = { .cn = "other.lab.example" };
	EVP_PKEY *keys[2] = { EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048),
		EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") };
	const char *want[2] = { "Private key             : RSA, 2048 bits\n",
		"Private key             : Ed25519, 256 bits\n" };
	FILE *f;

	setup();
	for (int i = 0; i < 2; i++) {
		X509 *x;

		CU_ASSERT_FATAL(keys[i] != NULL);
		CU_ASSERT_FATAL((x = tc_cert(&spec, keys[i], lab.ca, lab.ca_key)) != NULL);
		CU_ASSERT_FATAL(tc_write(lab.dir, "k.key", keys[i], NULL, 0) == 0);
		CU_ASSERT_FATAL(tc_write(lab.dir, "k.cer", NULL, &x, 1) == 0);
		CU_ASSERT_EQUAL(check("k.key", "k.cer", NULL), 0);
		CU_ASSERT_EQUAL(check("edge.key", "k.cer", NULL), -EKEYREJECTED);
		CU_ASSERT_EQUAL(run("pki inspect k.key"), 0);
		expect_text(out_text, want[i]);
		X509_free(x);
		EVP_PKEY_free(keys[i]);
	}
	f = fopen(path_of("trad.key"), "w");
	CU_ASSERT_FATAL(f != NULL);
	BIO *b = BIO_new_fp(f, BIO_CLOSE);
	CU_ASSERT(PEM_write_bio_PrivateKey_traditional(b, lab.key, NULL, NULL, 0, NULL, NULL) == 1);
	BIO_free(b);
	CU_ASSERT_EQUAL(run("pki inspect trad.key"), 0);
	expect_text(out_text, "Private key             : EC P-256, 256 bits\n");
	CU_ASSERT_EQUAL(check("trad.key", "edge.cer", NULL), 0);
	f = fopen(path_of("trad.key"), "r");
	char line[64] = "";
	CU_ASSERT(f && fgets(line, sizeof(line), f));
	CU_ASSERT_STRING_EQUAL(line, "-----BEGIN EC PRIVATE KEY-----\n"); /* the form meant */
	if (f)
		fclose(f);
	teardown();
}

static void test_cli_match(void)
{
	EVP_PKEY *other = tc_key();

	setup();
	CU_ASSERT_EQUAL(run("pki match edge.key cmsedge-fullchain.cer"), 0);
	expect_text(out_text, "SUCCESS: Key and certificate pair match\n");
	CU_ASSERT_FATAL(tc_write(lab.dir, "other.key", other, NULL, 0) == 0);
	CU_ASSERT_EQUAL(run("pki match other.key edge.cer"), -EINVAL);
	expect_text(out_text,
		"error: pki match: 'other.key' does not match the certificate in "
		"'edge.cer'\n");
	CU_ASSERT_EQUAL(run("pki match edge.cer edge.key"), -EINVAL);
	expect_text(out_text,
		"error: pki match: 'edge.cer': not a private key (PEM): it holds a "
		"certificate\n");
	/* a path is taken as it is */
	char line[256];
	snprintf(line, sizeof(line), "pki match %s/edge.key %s/edge.cer", lab.dir, lab.dir);
	CU_ASSERT_EQUAL(run(line), 0);
	expect_text(out_text, "SUCCESS: Key and certificate pair match\n");
	EVP_PKEY_free(other);
	teardown();
}

static void test_cli_inspect(void)
{
	char want[700];

	setup();
	CU_ASSERT_EQUAL(run("pki inspect cmsedge-fullchain.cer"), 0);
	expect_in(out_text,
		"Certificate             : 1 of 2\n"
		"Subject                 : CN=edge.lab.example\n"
		"Issuer                  : CN=Edge Lab CA\n"
		"Serial                  : 03:e8\n");
	expect_in(out_text,
		"Subject alt names       : DNS:edge.lab.example, IP:198.18.20.1\n"
		"Public key              : EC P-256, 256 bits\n"
		"Signature algorithm     : ecdsa-with-SHA256\n"
		"Extended key usage      : TLS server, TLS client\n"
		"CA                      : no\n"
		"\n"
		"Certificate             : 2 of 2\n"
		"Subject                 : CN=Edge Lab CA\n"
		"Issuer                  : CN=Edge Lab CA (self-signed)\n"
		"Serial                  : 01\n");
	expect_in(out_text, "CA                      : yes\n");
	CU_ASSERT_PTR_NULL(strstr(out_text, "EXPIRED"));
	CU_ASSERT_PTR_NULL(strstr(out_text, "not yet valid"));

	write_leaf(&expired_spec, "expired.cer", false);
	CU_ASSERT_EQUAL(run("pki inspect expired.cer"), 0);
	expect_in(out_text,
		"Not before              : 2019-01-01 00:00:00 UTC\n"
		"Not after               : 2020-01-01 00:00:00 UTC (EXPIRED)\n");
	write_leaf(&future_spec, "future.cer", false);
	CU_ASSERT_EQUAL(run("pki inspect future.cer"), 0);
	expect_in(out_text,
		"Not before              : 2099-01-01 00:00:00 UTC (not yet valid)\n"
		"Not after               : 2100-01-01 00:00:00 UTC\n");

	CU_ASSERT_EQUAL(run("pki inspect edge.key"), 0);
	expect_text(out_text, "Private key             : EC P-256, 256 bits\n");

	/* names in a certificate are anyone's: no terminal escapes reach the operator */
	const struct tc_spec odd = { .cn = "evil\x1b[2J", .san = "DNS:evil\x1b[2J.example" };
	X509 *x = tc_cert(&odd, lab.key, lab.ca, lab.ca_key);
	CU_ASSERT_FATAL(x != NULL);
	CU_ASSERT_FATAL(tc_write(lab.dir, "odd.cer", NULL, &x, 1) == 0);
	X509_free(x);
	CU_ASSERT_EQUAL(run("pki inspect odd.cer"), 0);
	CU_ASSERT_PTR_NULL(strchr(out_text, '\x1b'));
	expect_in(out_text, "Subject alt names       : DNS:evil?[2J.example\n");

	CU_ASSERT_EQUAL(run("pki inspect nofile.pem"), -EINVAL);
	snprintf(want, sizeof(want),
		"error: pki inspect: 'nofile.pem': cannot read %s/nofile.pem: "
		"No such file or directory\n",
		lab.dir);
	expect_text(out_text, want);
	CU_ASSERT_FATAL(tc_write_text(lab.dir, "notes.txt", "hello\n") == 0);
	CU_ASSERT_EQUAL(run("pki inspect notes.txt"), -EINVAL);
	expect_text(out_text,
		"error: pki inspect: 'notes.txt': not a key, certificate or CSR "
		"(PEM)\n");
	teardown();
}

static void test_cli_verify(void)
{
	const struct tc_spec root_s = { .cn = "Lab Root", .ca = true, .serial = 10 },
			     inter_s = { .cn = "Lab Issuing CA", .ca = true, .serial = 11 },
			     leaf_s = { .cn = "turn.lab.example",
				     .san = "DNS:turn.lab.example",
				     .serial = 12 },
			     other_s = { .cn = "Unrelated CA", .ca = true };
	EVP_PKEY *rk = tc_key(), *ik = tc_key(), *lk = tc_key(), *ok = tc_key();
	X509 *root = tc_cert(&root_s, rk, NULL, NULL), *inter = tc_cert(&inter_s, ik, root, rk),
	     *leaf = tc_cert(&leaf_s, lk, inter, ik), *other = tc_cert(&other_s, ok, NULL, NULL);
	char want[512];

	setup();
	CU_ASSERT_FATAL(root && inter && leaf && other);
	CU_ASSERT_FATAL(tc_write(lab.dir, "root.pem", NULL, &root, 1) == 0);
	CU_ASSERT_FATAL(tc_write(lab.dir, "issuing.pem", NULL, &inter, 1) == 0);
	CU_ASSERT_FATAL(tc_write(lab.dir, "turn.cer", NULL, &leaf, 1) == 0);
	CU_ASSERT_FATAL(tc_write(lab.dir, "other-ca.pem", NULL, &other, 1) == 0);

	CU_ASSERT_EQUAL(run("pki verify edge.cer ca.pem"), 0);
	expect_text(out_text,
		"SUCCESS: Certificate verified\n"
		"  depth 0: CN=edge.lab.example\n"
		"  depth 1: CN=Edge Lab CA (trust anchor)\n");
	CU_ASSERT_EQUAL(run("pki verify cmsedge-fullchain.cer ca.pem"), 0);
	/* the bundle's intermediates complete the chain */
	CU_ASSERT_EQUAL(run("pki verify turn.cer issuing.pem root.pem"), 0);
	expect_text(out_text,
		"SUCCESS: Certificate verified\n"
		"  depth 0: CN=turn.lab.example\n"
		"  depth 1: CN=Lab Issuing CA\n"
		"  depth 2: CN=Lab Root (trust anchor)\n");
	CU_ASSERT_EQUAL(run("pki verify turn.cer root.pem"), -EINVAL);
	snprintf(want, sizeof(want),
		"error: pki verify: 'turn.cer': %s at depth 0 "
		"(CN=turn.lab.example)\n",
		X509_verify_cert_error_string(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY));
	expect_text(out_text, want);
	/* against an unrelated CA */
	CU_ASSERT_EQUAL(run("pki verify edge.cer other-ca.pem"), -EINVAL);
	snprintf(want, sizeof(want),
		"error: pki verify: 'edge.cer': %s at depth 0 "
		"(CN=edge.lab.example)\n",
		X509_verify_cert_error_string(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY));
	expect_text(out_text, want);
	write_leaf(&expired_spec, "expired.cer", false);
	CU_ASSERT_EQUAL(run("pki verify expired.cer ca.pem"), -EINVAL);
	snprintf(want, sizeof(want),
		"error: pki verify: 'expired.cer': %s at depth 0 "
		"(CN=edge.lab.example)\n",
		X509_verify_cert_error_string(X509_V_ERR_CERT_HAS_EXPIRED));
	expect_text(out_text, want);
	CU_ASSERT_EQUAL(run("pki verify edge.cer edge.key"), -EINVAL);
	expect_text(out_text,
		"error: pki verify: 'edge.key': not a certificate (PEM): it holds a "
		"private key\n");

	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	X509_free(other);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(ok);
	teardown();
}

/* What `pki list` says of @name, or NULL. */
static const char *listed(const char *name)
{
	static char what[512];
	size_t n = strlen(name);

	for (const char *l = out_text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
		if (strncmp(l, name, n) || l[n] != ' ')
			continue;
		l += n;
		l += strspn(l, " ");
		snprintf(what, sizeof(what), "%.*s", (int)strcspn(l, "\n"), l);
		return what;
	}
	return NULL;
}

static void test_cli_list(void)
{
	const struct tc_spec csr_s = { .cn = "edge.lab.example", .san = "DNS:edge.lab.example" };
	X509_REQ *req;
	char gone[512];
	const char *w;

	setup();
	CU_ASSERT_FATAL((req = tc_csr(&csr_s, lab.key)) != NULL);
	CU_ASSERT_FATAL(tc_write_csr(lab.dir, "edge.csr", req) == 0);
	CU_ASSERT_FATAL(tc_write_text(lab.dir, "notes.txt", "hello\n") == 0);
	CU_ASSERT_FATAL(tc_write_text(lab.dir, ".hidden", "hello\n") == 0);
	snprintf(gone, sizeof(gone), "%s/gone.pem", lab.dir);
	CU_ASSERT_FATAL(symlink("/nonexistent/edge-test", gone) == 0);
	write_leaf(&expired_spec, "expired.cer", false);

	CU_ASSERT_EQUAL(run("pki list"), 0);
	w = listed("ca.pem");
	CU_ASSERT_PTR_NOT_NULL(w);
	CU_ASSERT(w && !strncmp(w, "certificate (1 in chain): CN=Edge Lab CA, expires ", 50));
	w = listed("cmsedge-fullchain.cer");
	CU_ASSERT(w && !strncmp(w, "certificate (2 in chain): CN=edge.lab.example, expires ", 55));
	expect_text(listed("edge.key"), "private key (EC P-256, 256 bits)");
	expect_text(listed("edge.csr"), "CSR: CN=edge.lab.example");
	expect_text(listed("expired.cer"),
		"certificate (1 in chain): CN=edge.lab.example, "
		"EXPIRED 2020-01-01");
	expect_text(listed("notes.txt"), "not a key, certificate or CSR");
	w = listed("gone.pem");
	CU_ASSERT(w && !strncmp(w, "unreadable: cannot read ", 24) &&
		strstr(w, "No such file or directory"));
	CU_ASSERT_PTR_NULL(listed(".hidden"));
	/* sorted, one a line */
	const char *order[] = { "ca.pem", "cmsedge-fullchain.cer", "edge.cer", "edge.csr",
		"edge.key", "expired.cer", "gone.pem", "notes.txt" };
	const char *at = out_text;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *p = strstr(at, order[i]);

		CU_ASSERT_PTR_NOT_NULL(p);
		at = p ? p : at;
	}
	int lines = 0;
	for (const char *p = out_text; (p = strchr(p, '\n')); p++)
		lines++;
	CU_ASSERT_EQUAL(lines, 8);
	X509_REQ_free(req);

	snprintf(running.cert_dir, sizeof(running.cert_dir), "%s/nodir", lab.dir);
	CU_ASSERT_EQUAL(run("pki list"), -EINVAL);
	expect_in(out_text, "error: pki list: cannot read ");
	teardown();
}

static void test_cli_usage(void)
{
	static const char *const lines[][2] = {
		{ "pki", "missing subcommand" },
		{ "pki frobnicate", "'frobnicate'" },
		{ "pki list all", "too many words" },
		{ "pki inspect", "missing words" },
		{ "pki match edge.key", "missing words" },
		{ "pki match a b c", "too many words" },
		{ "pki verify edge.cer", "missing words" },
		{ "pki verify a b c d", "too many words" },
	};

	setup();
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		CU_ASSERT_EQUAL(run(lines[i][0]), -EINVAL);
		CU_ASSERT(!strncmp(out_text, "error: ", 7));
		expect_in(out_text, lines[i][1]);
		expect_in(out_text, "usage: ");
	}
	CU_ASSERT_EQUAL(run("help pki"), 0);
	expect_in(out_text, "pki verify <cert> [<bundle>] <ca>");
	expect_in(out_text, "pki match <key> <cert>");
	teardown();
}

static const struct unit_test tests[] = {
	{ "pki_path: bare names in the certificate directory, paths as they are", test_path },
	{ "check_pair: a good pair, with and without a bundle", test_good_pair },
	{ "check_pair: a key that is not the certificate's", test_mismatch },
	{ "check_pair: an expired certificate, with its date", test_expired },
	{ "check_pair: a certificate not yet valid, with its date", test_not_yet_valid },
	{ "check_pair: an expired issuer, a chain out of order", test_chain },
	{ "check_pair: garbage, swapped and damaged files", test_garbage_key },
	{ "check_pair: an encrypted key is refused without a prompt", test_encrypted_key },
	{ "check_pair: missing files", test_missing_file },
	{ "check_pair: a bundle that holds no certificate", test_bundle },
	{ "RSA, Ed25519 and traditional EC keys", test_key_types },
	{ "pki match", test_cli_match },
	{ "pki inspect", test_cli_inspect },
	{ "pki verify: chains, bundles, unrelated CAs, expiry", test_cli_verify },
	{ "pki list", test_cli_list },
	{ "pki: usage", test_cli_usage },
	{ NULL, NULL },
};

int main(void)
{
	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_ERR);
	return unit_run("pki", tests);
}
