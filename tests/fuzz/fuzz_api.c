/* libFuzzer target for what strangers send the callbridge's webadmin and the guests' tokens:
 * the REST API and the webadmin pages (cb_api.c over the SQLite store, cb_db.c) under any
 * method, path, query, credentials and form body, and the JWT check (web_jwt.c) under any
 * token. Nothing may crash, leak or read out of bounds (ASan+UBSan watch), an answer must
 * have a status and a body as long as it says, and no forged token may pass.
 *
 * The input is one request: [method byte] then path, query and "user:password" each ended by
 * a newline, then the body. Requests signed as "admin:pw" get past authentication, so every
 * handler is reachable; a few calls and legs are live. The store starts every 512 inputs
 * (objects the fuzzer created would otherwise pile up) with one coSpace and one access method
 * of it, whose random ids a path names as "@s" and "@a". The query and the password are also
 * a guest's meeting ID and passcode, looked up as a join would (by callId, URI, both or
 * neither, from the input's size). A second reading of the same
 * bytes as a token goes to web_jwt_verify, against a real key.
 *
 * A third reading is C2W: records [flags][n][length, 2 bytes big-endian][data], each a
 * WebSocket fragment (flags bit 0: the message's final one; bit 1: the data n + 1 times, so
 * that messages past C2W's 256 KiB come from small inputs), fed to both ends' C2W receive
 * paths (fuzz_c2w_cb.c, fuzz_c2w_wb3.c) as lws would. Neither may crash or send what the
 * other cannot read, and after the input each must still read the next whole message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../controlplane/callbridge/cb_api.h"
#include "../../controlplane/callbridge/cb_db.h"
#include "../../controlplane/web/web_jwt.h"
#include "edge_log.h"
#include "fuzz_c2w.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cb_api api;
static struct cb_model model;
static struct cb_call call;
static struct cb_leg legs[2];
static struct web_jwt_key pub;
static unsigned int runs;
static struct cb_cospace space;
static struct cb_accessmethod way;

static int auth(void *ctx, const char *user, const char *password)
{
	(void)ctx;
	return user && password && !strcmp(user, "admin") && !strcmp(password, "pw") ? 0 : -EACCES;
}

static int drop(void *ctx, const char *id)
{
	(void)ctx;
	return strcmp(id, legs[0].id) && strcmp(id, call.id) ? -ENOENT : 0;
}

static void changed(void *ctx, const char *object)
{
	(void)ctx, (void)object;
}

static const char *wb_status(void *ctx, const char *id)
{
	(void)ctx;
	return id[0] == 'a' ? "success" : NULL;
}

static void open_db(void)
{
	char err[128];

	if (api.db)
		cb_db_close(api.db);
	if (cb_db_open(":memory:", &api.db, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_api: %s\n", err);
		abort();
	}
	cb_db_obj_init(CB_DB_COSPACE, &space);
	cb_db_obj_init(CB_DB_ACCESSMETHOD, &way);
	if (cb_db_field_set(cb_db_field(CB_DB_COSPACE, "callId"), &space, "9999") ||
		cb_db_field_set(cb_db_field(CB_DB_COSPACE, "passcode"), &space, "1111") ||
		cb_db_obj_add(api.db, CB_DB_COSPACE, &space, NULL))
		abort();
	memcpy(way.cospace, space.id, sizeof(way.cospace));
	if (cb_db_field_set(cb_db_field(CB_DB_ACCESSMETHOD, "callId"), &way, "9999") ||
		cb_db_field_set(cb_db_field(CB_DB_ACCESSMETHOD, "passcode"), &way, "2222") ||
		cb_db_obj_add(api.db, CB_DB_ACCESSMETHOD, &way, NULL))
		abort();
}

/* @path with "@s" and "@a" replaced by the ids of the store's space and access method */
static void expand(char *path, size_t len)
{
	char out[1024];
	size_t n = 0;

	for (const char *p = path; *p && n + 1 < sizeof(out); p++) {
		const char *id = p[0] == '@' && p[1] == 's' ? space.id :
			p[0] == '@' && p[1] == 'a'	    ? way.id :
							      NULL;

		if (id && n + strlen(id) + 1 < sizeof(out)) {
			memcpy(out + n, id, strlen(id));
			n += strlen(id);
			p++;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	snprintf(path, len, "%s", out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY *k;

	(void)argc, (void)argv;
	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_CRIT);
	open_db();
	pthread_mutex_init(&model.lock, NULL);
	snprintf(model.guid, sizeof(model.guid), "320d02c3-7af5-4e4f-b51c-9a7a4dc0b8b9");
	snprintf(call.id, sizeof(call.id), "04704220-95a8-4d36-a6ec-3d4d789d9250");
	snprintf(call.name, sizeof(call.name), "9999 <&\"'>");
	snprintf(call.cospace, sizeof(call.cospace), "58ef98d1-5181-4e63-a386-4b60597be7e4");
	for (int i = 0; i < 2; i++) {
		snprintf(legs[i].id, sizeof(legs[i].id), "fcfe42f4-ac94-4ab2-a14a-f4165ec960a%d",
			i);
		snprintf(legs[i].participant_id, sizeof(legs[i].participant_id),
			"aaaaaaaa-ac94-4ab2-a14a-f4165ec960a%d", i);
		snprintf(legs[i].guest, sizeof(legs[i].guest), "guest157306474%d", i);
		snprintf(legs[i].name, sizeof(legs[i].name), "Thomas]]><x>%d", i);
		legs[i].call = &call;
		legs[i].session = i;
	}
	legs[0].next = &legs[1];
	call.legs = &legs[0];
	call.n_legs = call.max_legs = 2;
	model.calls = &call;
	model.n_calls = 1;
	api.model = &model;
	api.env = (struct cb_api_env){ .auth = auth,
		.drop_leg = drop,
		.drop_call = drop,
		.changed = changed,
		.webbridge_status = wb_status };
	/* a real EC key, as a callbridge's certificate carries it: forged tokens must fail */
	char err[64];
	X509 *x = X509_new();
	k = EVP_EC_gen("P-256");
	if (!k || !x || X509_set_pubkey(x, k) != 1 ||
		web_jwt_key_from_cert(&pub, x, err, sizeof(err)) < 0)
		abort();
	X509_free(x);
	EVP_PKEY_free(k);
	fuzz_c2w_cb_init();
	fuzz_c2w_wb3_init();
	return 0;
}

/* The input as C2W fragments, to both ends. */
static void c2w(const uint8_t *p, const uint8_t *end)
{
	static uint8_t big[2 * 1024 * 1024];
	size_t total = 0;

	fuzz_c2w_cb_begin(api.db);
	fuzz_c2w_wb3_begin();
	while (end - p >= 4) {
		unsigned int flags = p[0], n = (flags & 2) ? p[1] + 1u : 1u;
		size_t len = (size_t)p[2] << 8 | p[3];
		const uint8_t *d = p + 4;

		if (len > (size_t)(end - d))
			len = (size_t)(end - d);
		p = d + len;
		if (len * n > sizeof(big) || total + len * n > sizeof(big))
			break;
		total += len * n;
		for (unsigned int i = 0; i < n; i++)
			memcpy(big + i * len, d, len);
		fuzz_c2w_cb_fragment(big, len * n, flags & 1);
		fuzz_c2w_wb3_fragment(big, len * n, flags & 1);
	}
	fuzz_c2w_cb_end();
	fuzz_c2w_wb3_end();
}

/* the next field, up to a newline; NUL-terminated in @buf */
static const uint8_t *field(const uint8_t *p, const uint8_t *end, char *buf, size_t len)
{
	size_t n = 0;

	while (p < end && *p != '\n') {
		if (n + 1 < len && *p)
			buf[n++] = (char)*p;
		p++;
	}
	buf[n] = '\0';
	return p < end ? p + 1 : p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *methods[] = { "GET", "POST", "PUT", "DELETE", "PATCH", "" };
	char path[1024], query[1024], cred[256], *colon;
	const uint8_t *p = data, *end = data + size;
	struct cb_api_req rq = { 0 };
	struct cb_api_resp rs;
	json_t *claims = NULL;

	if (++runs % 512 == 0)
		open_db();
	if (!size)
		return 0;
	rq.method = methods[*p++ % 6];
	p = field(p, end, path, sizeof(path));
	p = field(p, end, query, sizeof(query));
	p = field(p, end, cred, sizeof(cred));
	expand(path, sizeof(path));
	rq.path = path;
	rq.query = query[0] ? query : NULL;
	colon = strchr(cred, ':');
	if (colon) {
		*colon = '\0';
		rq.user = cred;
		rq.password = colon + 1;
	}
	rq.body = (const char *)p;
	rq.body_len = (size_t)(end - p);
	memset(&rs, 0, sizeof(rs));
	if (cb_api_handle(&api, &rq, &rs) == 0) {
		if (rs.status < 200 || rs.status > 599 || !rs.content_type)
			abort();
		if (rs.body && strlen(rs.body) != rs.body_len)
			abort();
	}
	cb_api_resp_free(&rs);

	/* a guest's way in: whatever it finds is a space, reached by a passcode it has */
	{
		struct cb_accessmethod am;
		struct cb_cospace cs;
		const char *pc = colon ? colon + 1 : NULL;
		int rc = cb_db_meeting_find(api.db, query, pc, size & 3, &cs, &am);

		if (rc == 0 && !cs.id[0])
			abort();
		if (rc == 0 && cs.passcode[0] && !am.id[0] && (!pc || strcmp(pc, cs.passcode)))
			abort();
		if (rc == 0 && am.id[0] && am.passcode[0] && (!pc || strcmp(pc, am.passcode)))
			abort();
	}

	/* the same bytes as a token: never valid without the key's signature */
	{
		char *tok = malloc(size + 1);
		memcpy(tok, data, size);
		tok[size] = '\0';
		if (web_jwt_verify(&pub, tok, 1000, &claims) == 0)
			abort();
		json_decref(claims);
		free(tok);
	}

	c2w(data, data + size);
	return 0;
}
