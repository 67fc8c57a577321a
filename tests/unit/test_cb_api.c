/* The callbridge's REST API and webadmin pages through cb_api_handle(): objects created,
 * listed, changed and deleted as CMS answers them, live calls from a hand-built model, the
 * failure reasons, and garbage that must get 4xx, never a crash. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_api.h"
#include "media.h"
#include "unit.h"

static struct cb_db *db;
static struct cb_model model;
static struct cb_api api;
static struct cb_api_resp R;
static int n_changed;
static char last_changed[32];
static char dropped[64];
static int drop_rc;
static bool lock_free_in_drop;

static int n_auth; /* credentials checked (each a password hash in the callbridge) */

/* One user per role, and "crypto" (a role of the MMP's with nothing to do here). */
static int t_auth(void *ctx, const char *user, const char *password)
{
	static const struct {
		const char *user, *pw;
		int role;
	} users[] = {
		{ "admin", "s3cret", CB_ROLE_ADMIN },
		{ "appadmin", "pw-app", CB_ROLE_APPADMIN },
		{ "apiuser", "pw-api", CB_ROLE_API },
		{ "auditor", "pw-audit", CB_ROLE_AUDIT },
		{ "crypto", "pw-crypto", CB_ROLE_NONE },
	};

	(void)ctx;
	n_auth++;
	for (size_t i = 0; user && password && i < sizeof(users) / sizeof(users[0]); i++)
		if (!strcmp(user, users[i].user) && !strcmp(password, users[i].pw))
			return users[i].role;
	return -EACCES;
}

static int t_drop_leg(void *ctx, const char *id)
{
	(void)ctx;
	snprintf(dropped, sizeof(dropped), "%s", id);
	lock_free_in_drop = pthread_mutex_trylock(&model.lock) == 0;
	if (lock_free_in_drop)
		pthread_mutex_unlock(&model.lock);
	return drop_rc;
}

static void t_changed(void *ctx, const char *object)
{
	(void)ctx;
	n_changed++;
	snprintf(last_changed, sizeof(last_changed), "%s", object);
}

static const char *t_wb_status(void *ctx, const char *id)
{
	(void)ctx;
	(void)id;
	return "connectionFailure";
}

static void fresh(void)
{
	char err[256];

	CU_ASSERT_EQUAL_FATAL(cb_db_open(":memory:", &db, err, sizeof(err)), 0);
	memset(&model, 0, sizeof(model));
	pthread_mutex_init(&model.lock, NULL);
	snprintf(model.guid, sizeof(model.guid), "320d02c3-0000-4000-8000-000000000001");
	api = (struct cb_api){ .db = db, .model = &model };
	api.env.auth = t_auth;
	api.env.drop_leg = t_drop_leg;
	api.env.changed = t_changed;
	api.env.webbridge_status = t_wb_status;
	n_changed = n_auth = 0;
	last_changed[0] = dropped[0] = '\0';
	drop_rc = 0;
}

static void done(void)
{
	cb_api_resp_free(&R);
	cb_db_close(db);
	db = NULL;
	pthread_mutex_destroy(&model.lock);
}

static int call_as(const char *user, const char *pw, const char *method, const char *path,
	const char *query, const char *body, size_t body_len)
{
	struct cb_api_req q = { .method = method,
		.path = path,
		.query = query,
		.body = body,
		.body_len = body_len,
		.user = user,
		.password = pw };

	cb_api_resp_free(&R);
	CU_ASSERT_EQUAL(cb_api_handle(&api, &q, &R), 0);
	if (R.body)
		CU_ASSERT_EQUAL(strlen(R.body), R.body_len);
	return R.status;
}

static int req(const char *method, const char *path, const char *query, const char *body)
{
	return call_as("admin", "s3cret", method, path, query, body, body ? strlen(body) : 0);
}

static bool has(const char *s)
{
	return R.body && strstr(R.body, s);
}

static int count(const char *s)
{
	int n = 0;

	for (const char *p = R.body; p && (p = strstr(p, s)); p++)
		n++;
	return n;
}

/* POSTs and returns the new object's path in out. */
static void create(const char *coll, const char *body, char *out, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/api/v1/%s", coll);
	CU_ASSERT_EQUAL_FATAL(req("POST", path, NULL, body), 200);
	CU_ASSERT_PTR_NULL(R.body);
	CU_ASSERT_EQUAL(strncmp(R.location, path, strlen(path)), 0);
	CU_ASSERT_EQUAL(strlen(R.location), strlen(path) + 1 + 36);
	snprintf(out, len, "%s", R.location);
}

static void test_auth(void)
{
	fresh();
	CU_ASSERT_EQUAL(call_as(NULL, NULL, "GET", "/api/v1/coSpaces", NULL, NULL, 0), 401);
	CU_ASSERT_STRING_EQUAL(R.www_authenticate, "Basic realm=\"webadmin\"");
	CU_ASSERT_EQUAL(call_as("admin", "wrong", "GET", "/api/v1/coSpaces", NULL, NULL, 0), 401);
	CU_ASSERT_PTR_NOT_NULL(R.www_authenticate);
	CU_ASSERT_EQUAL(call_as("admin", NULL, "POST", "/api/v1/coSpaces", NULL, "name=x", 6), 401);
	CU_ASSERT_EQUAL(call_as("admin", "wrong", "GET", "/", NULL, NULL, 0), 401);
	CU_ASSERT_PTR_NOT_NULL(R.www_authenticate);
	CU_ASSERT_EQUAL(call_as("admin", "wrong", "POST", "/general", NULL, "turnUsername=x", 14),
		401);
	CU_ASSERT_EQUAL(n_changed, 0);
	/* nothing was created behind the refusal */
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", NULL, NULL), 200);
	CU_ASSERT(has("<coSpaces total=\"0\">"));
	CU_ASSERT_PTR_NULL(R.www_authenticate);
	/* no auth callback: nobody gets in */
	api.env.auth = NULL;
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", NULL, NULL), 401);
	done();
}

/* Each role against each page and method, as the MMP reference has them (cb_api.h): admin
 * and appadmin everything, api the API only, audit reading only, crypto nothing. A refusal
 * for the role is 403 (the credentials were right), changes nothing, and says so. */
static void test_roles(void)
{
	static const struct {
		const char *m, *path, *body;
	} uses[] = {
		{ "GET", "/", NULL },
		{ "GET", "/general", NULL },
		{ "POST", "/general", "turnUsername=x" },
		{ "GET", "/api/v1/coSpaces", NULL },
		{ "POST", "/api/v1/coSpaces", "name=x" },
		{ "PUT", "/api/v1/coSpaces/00000000-0000-4000-8000-000000000000", "name=y" },
		{ "DELETE", "/api/v1/coSpaces/00000000-0000-4000-8000-000000000000", NULL },
		{ "GET", "/api/v1/system/profiles", NULL },
	};
	static const struct {
		const char *user, *pw, *may;
	} roles[] = {
		/* one letter per use above: y = may, n = 403 */
		{ "admin", "s3cret", "yyyyyyyy" },
		{ "appadmin", "pw-app", "yyyyyyyy" },
		{ "apiuser", "pw-api", "nnnyyyyy" },
		{ "auditor", "pw-audit", "yynynnny" },
		{ "crypto", "pw-crypto", "nnnnnnnn" },
	};

	fresh();
	for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]); r++)
		for (size_t u = 0; u < sizeof(uses) / sizeof(uses[0]); u++) {
			bool may = roles[r].may[u] == 'y';
			const char *b = uses[u].body;
			struct cb_api_req q = { .method = uses[u].m,
				.path = uses[u].path,
				.user = roles[r].user,
				.password = roles[r].pw };
			struct cb_api_resp rs;
			int st, changed = n_changed;

			memset(&rs, 0xa5, sizeof(rs)); /* untouched when it may go on */
			CU_ASSERT_EQUAL(cb_api_check(&api, &q, &rs), may ? 0 : -EPERM);
			if (may) {
				CU_ASSERT_EQUAL(rs.status, (int)0xa5a5a5a5);
			} else {
				cb_api_resp_free(&rs);
			}
			st = call_as(roles[r].user, roles[r].pw, uses[u].m, uses[u].path, NULL, b,
				b ? strlen(b) : 0);
			if (may) {
				CU_ASSERT(st != 403 && st != 401);
			} else {
				CU_ASSERT_EQUAL(st, 403);
				CU_ASSERT_EQUAL(n_changed, changed);
				CU_ASSERT_PTR_NULL(R.www_authenticate); /* no new login helps */
			}
		}
	/* what the refusals say: an XML reason on the API, a page on the webadmin */
	CU_ASSERT_EQUAL(call_as("apiuser", "pw-api", "GET", "/general", NULL, NULL, 0), 403);
	CU_ASSERT_STRING_EQUAL(R.content_type, "text/html; charset=utf-8");
	CU_ASSERT(has("Forbidden"));
	CU_ASSERT_EQUAL(call_as("auditor", "pw-audit", "POST", "/api/v1/coSpaces", NULL, "name=z",
				6),
		403);
	CU_ASSERT_STRING_EQUAL(R.content_type, "text/xml");
	CU_ASSERT(has("<failureDetails><insufficientPrivileges /></failureDetails>"));
	/* none of the refused writes made anything */
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", NULL, "name=x"), 200);
	CU_ASSERT(has("<coSpaces total=\"3\">")); /* admin's, appadmin's, apiuser's */
	/* the role names as the configuration spells them */
	CU_ASSERT_EQUAL(cb_api_role("admin"), CB_ROLE_ADMIN);
	CU_ASSERT_EQUAL(cb_api_role("appadmin"), CB_ROLE_APPADMIN);
	CU_ASSERT_EQUAL(cb_api_role("api"), CB_ROLE_API);
	CU_ASSERT_EQUAL(cb_api_role("audit"), CB_ROLE_AUDIT);
	CU_ASSERT_EQUAL(cb_api_role("crypto"), CB_ROLE_NONE);
	CU_ASSERT_EQUAL(cb_api_role("Admin"), CB_ROLE_NONE);
	CU_ASSERT_EQUAL(cb_api_role(""), CB_ROLE_NONE);
	CU_ASSERT_EQUAL(cb_api_role(NULL), CB_ROLE_NONE);
	CU_ASSERT_FALSE(cb_api_role_may(CB_ROLE_AUDIT, NULL, true));
	CU_ASSERT_FALSE(cb_api_role_may((enum cb_api_role)42, "GET", true));
	done();
}

/* The webadmin decides on the request line and the credentials, before it reads a body:
 * cb_api_check() answers a POST with wrong credentials 401 from the headers alone (the body
 * not there yet: it is never read, nor buffered), and a request it let through is not
 * checked again (one password hash per request). */
static void test_check_before_body(void)
{
	struct cb_api_req q = { .method = "POST",
		.path = "/api/v1/coSpaces",
		.user = "admin",
		.password = "wrong" };
	struct cb_api_resp rs;

	fresh();
	CU_ASSERT_EQUAL(cb_api_check(&api, &q, &rs), -EACCES);
	CU_ASSERT_EQUAL(rs.status, 401);
	CU_ASSERT_STRING_EQUAL(rs.www_authenticate, "Basic realm=\"webadmin\"");
	CU_ASSERT_PTR_NOT_NULL(rs.body);
	CU_ASSERT(rs.body && strstr(rs.body, "<authenticationFailure />"));
	cb_api_resp_free(&rs);
	q.path = "/general";
	q.user = NULL;
	q.password = NULL;
	CU_ASSERT_EQUAL(cb_api_check(&api, &q, &rs), -EACCES);
	CU_ASSERT_EQUAL(rs.status, 401);
	CU_ASSERT_STRING_EQUAL(rs.content_type, "text/html; charset=utf-8");
	cb_api_resp_free(&rs);
	CU_ASSERT_EQUAL(n_auth, 2);
	CU_ASSERT_EQUAL(n_changed, 0);

	/* let through on its headers; the body then comes, and is not checked a second time */
	q.user = "admin";
	q.password = "s3cret";
	n_auth = 0;
	CU_ASSERT_EQUAL(cb_api_check(&api, &q, &rs), 0);
	q.body = "turnUsername=carol";
	q.body_len = strlen(q.body);
	q.checked = true;
	cb_api_resp_free(&R);
	CU_ASSERT_EQUAL(cb_api_handle(&api, &q, &R), 0);
	CU_ASSERT_EQUAL(R.status, 303);
	CU_ASSERT_EQUAL(n_auth, 1);
	/* unchecked, cb_api_handle() checks for itself */
	q.checked = false;
	q.password = "wrong";
	cb_api_resp_free(&R);
	CU_ASSERT_EQUAL(cb_api_handle(&api, &q, &R), 0);
	CU_ASSERT_EQUAL(R.status, 401);
	CU_ASSERT_EQUAL(n_auth, 2);
	/* no auth callback: nobody, at the headers either */
	api.env.auth = NULL;
	q.password = "s3cret";
	CU_ASSERT_EQUAL(cb_api_check(&api, &q, &rs), -EACCES);
	cb_api_resp_free(&rs);
	done();
}

static void test_cospace_crud(void)
{
	char path[128], secret[64];
	const char *p, *e;

	fresh();
	create("coSpaces", "name=Team+A%21&uri=9999&callId=9999&passcode=1234&cdrTag=t1", path,
		sizeof(path));
	CU_ASSERT_EQUAL(n_changed, 0); /* coSpaces are read when a guest joins */
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT_STRING_EQUAL(R.content_type, "text/xml");
	CU_ASSERT(has("<?xml version=\"1.0\"?><coSpace id=\""));
	CU_ASSERT(has(path + strlen("/api/v1/coSpaces/")));
	CU_ASSERT(has("<name>Team A!</name>"));
	CU_ASSERT(has("<autoGenerated>false</autoGenerated>"));
	CU_ASSERT(has("<uri>9999</uri>"));
	CU_ASSERT(has("<callId>9999</callId>"));
	CU_ASSERT(has("<passcode>1234</passcode>"));
	CU_ASSERT(has("<cdrTag>t1</cdrTag>"));
	CU_ASSERT(has("<nonMemberAccess>true</nonMemberAccess>"));
	CU_ASSERT(has("<requireCallId>false</requireCallId>"));
	CU_ASSERT(!has("<secondaryUri>"));
	/* a secret was made because callId is set: 22 of [A-Za-z0-9._-] */
	p = strstr(R.body, "<secret>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p += 8;
	e = strchr(p, '<');
	CU_ASSERT_EQUAL(e - p, 22);
	snprintf(secret, sizeof(secret), "%.*s", (int)(e - p), p);
	CU_ASSERT_EQUAL(strspn(secret,
				"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				"0123456789._-"),
		22);

	/* list: only the list fields */
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", NULL, NULL), 200);
	CU_ASSERT(has("<?xml version=\"1.0\"?><coSpaces total=\"1\"><coSpace id=\""));
	CU_ASSERT(has("<name>Team A!</name><autoGenerated>false</autoGenerated><uri>9999</uri>"
		      "<callId>9999</callId></coSpace></coSpaces>"));
	CU_ASSERT(!has("passcode"));

	/* PUT: omitted = unchanged, empty = unset */
	CU_ASSERT_EQUAL(req("PUT", path, NULL, "passcode=&name=Team+B&nonMemberAccess=false"), 200);
	CU_ASSERT_PTR_NULL(R.body);
	CU_ASSERT_EQUAL(R.location[0], '\0');
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT(has("<name>Team B</name>"));
	CU_ASSERT(!has("<passcode>"));
	CU_ASSERT(has("<callId>9999</callId>"));
	CU_ASSERT(has("<cdrTag>t1</cdrTag>"));
	CU_ASSERT(has(secret));
	CU_ASSERT(has("<nonMemberAccess>false</nonMemberAccess>"));
	CU_ASSERT_EQUAL(req("PUT", path, NULL, "nonMemberAccess="), 200);
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT(has("<nonMemberAccess>true</nonMemberAccess>"));
	/* regenerateSecret */
	CU_ASSERT_EQUAL(req("PUT", path, NULL, "regenerateSecret=true"), 200);
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT(has("<secret>"));
	CU_ASSERT(!has(secret));
	/* unset callId and uri; the secret stays */
	CU_ASSERT_EQUAL(req("PUT", path, NULL, "callId=&uri="), 200);
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT(!has("<callId>"));
	CU_ASSERT(!has("<uri>"));
	CU_ASSERT(has("<secret>"));

	/* DELETE, then it is gone */
	CU_ASSERT_EQUAL(req("DELETE", path, NULL, NULL), 200);
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 404);
	CU_ASSERT_STRING_EQUAL(R.body,
		"<?xml version=\"1.0\"?><failureDetails><coSpaceDoesNotExist /></failureDetails>");
	CU_ASSERT_EQUAL(req("DELETE", path, NULL, NULL), 404);
	CU_ASSERT(has("<coSpaceDoesNotExist />"));
	CU_ASSERT_EQUAL(req("PUT", path, NULL, "name=x"), 404);
	CU_ASSERT(has("<coSpaceDoesNotExist />"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", NULL, NULL), 200);
	CU_ASSERT(has("<coSpaces total=\"0\"></coSpaces>"));
	done();
}

static void test_cospace_escaping(void)
{
	char path[128];

	fresh();
	create("coSpaces", "name=%3Ca%26b%3E%22q%22+%27s%27&ownerJid=%C3%A9t%C3%A9%40x", path,
		sizeof(path));
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT(has("<name>&lt;a&amp;b&gt;&quot;q&quot; &#39;s&#39;</name>"));
	CU_ASSERT(has("<ownerJid>\xc3\xa9t\xc3\xa9@x</ownerJid>"));
	CU_ASSERT(!has("<a&b>"));
	/* no secret without a callId */
	CU_ASSERT(!has("<secret>"));
	done();
}

static void test_cospace_duplicates(void)
{
	char a[128], b[128];

	fresh();
	create("coSpaces", "name=a&uri=alpha&callId=100", a, sizeof(a));
	create("coSpaces", "name=b&uri=beta&secondaryUri=beta2&callId=200", b, sizeof(b));
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces", NULL, "name=c&callId=100"), 400);
	CU_ASSERT_STRING_EQUAL(R.body,
		"<?xml version=\"1.0\"?><failureDetails><duplicateCoSpaceId /></failureDetails>");
	CU_ASSERT_EQUAL(R.location[0], '\0');
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces", NULL, "name=c&uri=alpha"), 400);
	CU_ASSERT(has("<duplicateCoSpaceUri />"));
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces", NULL, "uri=beta2"), 400);
	CU_ASSERT(has("<duplicateCoSpaceUri />"));
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces", NULL, "secondaryUri=alpha"), 400);
	CU_ASSERT(has("<duplicateCoSpaceUri />"));
	CU_ASSERT_EQUAL(req("PUT", b, NULL, "callId=100"), 400);
	CU_ASSERT(has("<duplicateCoSpaceId />"));
	/* a meeting ID names one space: a callId may not be another's URI, nor the reverse */
	CU_ASSERT_EQUAL(req("PUT", a, NULL, "secondaryUri=300"), 200);
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces", NULL, "name=c&callId=300"), 400);
	CU_ASSERT(has("<duplicateCoSpaceId />"));
	CU_ASSERT_EQUAL(req("PUT", b, NULL, "callId=300"), 400);
	CU_ASSERT(has("<duplicateCoSpaceId />"));
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces", NULL, "name=c&uri=200"), 400);
	CU_ASSERT(has("<duplicateCoSpaceUri />"));
	CU_ASSERT_EQUAL(req("PUT", a, NULL, "secondaryUri=200"), 400);
	CU_ASSERT(has("<duplicateCoSpaceUri />"));
	CU_ASSERT_EQUAL(req("PUT", b, NULL, "uri=200"), 200); /* its own callId */
	CU_ASSERT_EQUAL(req("PUT", b, NULL, "uri=beta"), 200);
	/* an object may keep its own values */
	CU_ASSERT_EQUAL(req("PUT", a, NULL, "callId=100&uri=alpha&name=a2"), 200);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", NULL, NULL), 200);
	CU_ASSERT(has("total=\"2\""));
	/* once freed, a value may be taken */
	CU_ASSERT_EQUAL(req("DELETE", a, NULL, NULL), 200);
	create("coSpaces", "name=c&uri=alpha&callId=100", a, sizeof(a));
	done();
}

static void expect_param_error(const char *method, const char *path, const char *body,
	const char *param, const char *error);

/* /coSpaces/<id>/accessMethods: another callId or uri into a space, with its own passcode */
static void test_access_methods(void)
{
	char a[128], b[128], coll[192], coll_b[192], m1[256], m2[256], other[256];
	const char *slash;

	fresh();
	create("coSpaces", "name=9999&uri=9999&callId=9999&passcode=1111", a, sizeof(a));
	create("coSpaces", "name=b&uri=bee&callId=200", b, sizeof(b));
	snprintf(coll, sizeof(coll), "%s/accessMethods", a);
	snprintf(coll_b, sizeof(coll_b), "%s/accessMethods", b);
	CU_ASSERT_EQUAL(req("GET", coll, NULL, NULL), 200);
	CU_ASSERT_STRING_EQUAL(R.body,
		"<?xml version=\"1.0\"?><accessMethods total=\"0\">"
		"</accessMethods>");
	/* created in the space's collection, found at the Location given */
	CU_ASSERT_EQUAL_FATAL(req("POST", coll, NULL, "callId=8888&passcode=4321&name=Hosts"), 200);
	CU_ASSERT_EQUAL(strncmp(R.location, coll, strlen(coll)), 0);
	CU_ASSERT_EQUAL(strlen(R.location), strlen(coll) + 1 + 36);
	snprintf(m1, sizeof(m1), "%s", R.location);
	CU_ASSERT_EQUAL(req("GET", m1, NULL, NULL), 200);
	CU_ASSERT(has("<callId>8888</callId>"));
	CU_ASSERT(has("<passcode>4321</passcode>"));
	CU_ASSERT(has("<name>Hosts</name>"));
	CU_ASSERT(has("<scope>public</scope>"));
	CU_ASSERT(has("<secret>")); /* a callId brings a secret */
	CU_ASSERT(!has("coSpace")); /* the path says whose it is */
	slash = strrchr(m1, '/');
	CU_ASSERT(has(slash + 1)); /* <accessMethod id="..."> */
	CU_ASSERT_EQUAL(req("PUT", m1, NULL, "scope=private&uri=hosts.9999"), 200);
	CU_ASSERT_EQUAL(req("GET", coll, NULL, NULL), 200);
	CU_ASSERT(has("total=\"1\""));
	CU_ASSERT(has("<uri>hosts.9999</uri>"));
	CU_ASSERT(has("<scope>private</scope>"));
	CU_ASSERT_EQUAL(req("GET", coll, "filter=HOSTS", NULL), 200);
	CU_ASSERT(has("total=\"1\""));
	CU_ASSERT_EQUAL(req("GET", coll, "filter=nobody", NULL), 200);
	CU_ASSERT(has("total=\"0\""));
	CU_ASSERT_EQUAL(req("GET", coll_b, NULL, NULL), 200); /* another space's: empty */
	CU_ASSERT(has("total=\"0\""));

	/* bad values and parameters are named */
	expect_param_error("PUT", m1, "scope=world", "scope", "invalidValue");
	expect_param_error("POST", coll, "callId=12ab", "callId", "invalidValue");
	expect_param_error("POST", coll, "coSpace=x", "coSpace", "unrecognized");
	expect_param_error("POST", coll, "secondaryUri=x", "secondaryUri", "unrecognized");

	/* a meeting ID names one space; inside it, the passcode tells the ways in apart */
	{
		const struct {
			const char *method, *path, *body, *reason;
		} dups[] = {
			{ "POST", coll_b, "callId=8888&passcode=1", "duplicateCoSpaceId" },
			{ "POST", coll_b, "uri=9999", "duplicateCoSpaceUri" },
			{ "POST", "/api/v1/coSpaces", "uri=8888", "duplicateCoSpaceUri" },
			{ "PUT", b, "callId=8888", "duplicateCoSpaceId" },
			{ "POST", coll, "callId=9999&passcode=1111", "duplicateCoSpaceIdPasscode" },
		};
		char want[128];

		for (unsigned int i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
			snprintf(want, sizeof(want),
				"<?xml version=\"1.0\"?><failureDetails><%s />"
				"</failureDetails>",
				dups[i].reason);
			CU_ASSERT_EQUAL(req(dups[i].method, dups[i].path, NULL, dups[i].body), 400);
			CU_ASSERT_STRING_EQUAL(R.body ? R.body : "", want);
		}
	}
	CU_ASSERT_EQUAL(req("POST", coll, NULL, "callId=9999&passcode=2222"), 200);
	snprintf(m2, sizeof(m2), "%s", R.location);
	CU_ASSERT_EQUAL(req("PUT", a, NULL, "passcode=2222"), 400); /* now the method's */
	CU_ASSERT(has("<duplicateCoSpaceIdPasscode />"));

	/* an access method is reached through its own space only */
	snprintf(other, sizeof(other), "%s%s", coll_b, strrchr(m1, '/'));
	CU_ASSERT_EQUAL(req("GET", other, NULL, NULL), 404);
	CU_ASSERT(has("<accessMethodDoesNotExist />"));
	CU_ASSERT_EQUAL(req("PUT", other, NULL, "name=x"), 404);
	CU_ASSERT_EQUAL(req("DELETE", other, NULL, NULL), 404);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces/0badc0de/accessMethods", NULL, NULL), 404);
	CU_ASSERT(has("<coSpaceDoesNotExist />"));
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces/0badc0de/accessMethods", NULL, "callId=1"),
		404);
	CU_ASSERT(has("<coSpaceDoesNotExist />"));
	CU_ASSERT_EQUAL(req("PATCH", coll, NULL, NULL), 405);
	CU_ASSERT_EQUAL(req("POST", m1, NULL, "name=x"), 405);

	/* deleted one by one, or with their space */
	CU_ASSERT_EQUAL(req("DELETE", m2, NULL, NULL), 200);
	CU_ASSERT_EQUAL(req("GET", m2, NULL, NULL), 404);
	CU_ASSERT(has("<accessMethodDoesNotExist />"));
	CU_ASSERT_EQUAL(req("DELETE", a, NULL, NULL), 200);
	CU_ASSERT_EQUAL(req("GET", m1, NULL, NULL), 404);
	CU_ASSERT(has("<coSpaceDoesNotExist />"));
	CU_ASSERT_EQUAL(req("POST", coll_b, NULL, "callId=8888"), 200); /* 8888 is free */
	done();
}

/* /webBridgeProfiles and the system's default one (/system/profiles) */
static void test_wbprofiles(void)
{
	char p[128], wb[128], body[96];
	const char *id;

	fresh();
	create("webBridgeProfiles", "name=guests&resolveCoSpaceUris=domainSuggestionEnabled", p,
		sizeof(p));
	id = strrchr(p, '/') + 1;
	CU_ASSERT_EQUAL(req("GET", p, NULL, NULL), 200);
	CU_ASSERT(has("<name>guests</name>"));
	CU_ASSERT(has("<allowUnauthenticatedGuests>true</allowUnauthenticatedGuests>"));
	CU_ASSERT(has("<resolveCoSpaceCallIds>true</resolveCoSpaceCallIds>"));
	CU_ASSERT(has("<resolveLyncConferenceIds>false</resolveLyncConferenceIds>"));
	CU_ASSERT(has("<resolveCoSpaceUris>domainSuggestionEnabled</resolveCoSpaceUris>"));
	CU_ASSERT_EQUAL(req("PUT", p, NULL, "allowUnauthenticatedGuests=false"), 200);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/webBridgeProfiles", "filter=GUEST", NULL), 200);
	CU_ASSERT(has("<webBridgeProfiles total=\"1\"><webBridgeProfile id=\""));
	expect_param_error("PUT", p, "resolveCoSpaceUris=on", "resolveCoSpaceUris", "invalidValue");
	expect_param_error("PUT", p, "allowPasscodes=maybe", "allowPasscodes", "invalidValue");
	/* given to one web bridge, or to all as the system's */
	create("webBridges", "url=c2w://edge.lab.example:6000", wb, sizeof(wb));
	snprintf(body, sizeof(body), "webBridgeProfile=%s", id);
	CU_ASSERT_EQUAL(req("PUT", wb, NULL, body), 200);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/system/profiles", NULL, NULL), 200);
	CU_ASSERT_STRING_EQUAL(R.body, "<?xml version=\"1.0\"?><profiles></profiles>");
	CU_ASSERT_EQUAL(req("PUT", "/api/v1/system/profiles", NULL, body), 200);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/system/profiles", NULL, NULL), 200);
	CU_ASSERT(has(id));
	expect_param_error("PUT", "/api/v1/system/profiles", "webBridgeProfile=nope",
		"webBridgeProfile", "invalidValue");
	CU_ASSERT_EQUAL(req("PUT", "/api/v1/system/profiles", NULL,
				"webBridgeProfile=11111111-2222-4333-8444-555555555555"),
		400);
	CU_ASSERT(has("<webBridgeProfileDoesNotExist />"));
	expect_param_error("PUT", "/api/v1/system/profiles", "callProfile=x", "callProfile",
		"unrecognized");
	CU_ASSERT_EQUAL(req("POST", "/api/v1/system/profiles", NULL, "x=1"), 405);
	CU_ASSERT_EQUAL(req("PUT", "/api/v1/system/profiles", NULL, "webBridgeProfile="), 200);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/system/profiles", NULL, NULL), 200);
	CU_ASSERT(!has(id));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/system", NULL, NULL), 404);
	CU_ASSERT_EQUAL(req("DELETE", p, NULL, NULL), 200);
	CU_ASSERT_EQUAL(req("GET", p, NULL, NULL), 404);
	CU_ASSERT(has("<webBridgeProfileDoesNotExist />"));
	done();
}

static void expect_param_error(const char *method, const char *path, const char *body,
	const char *param, const char *error)
{
	char want[160];

	snprintf(want, sizeof(want),
		"<?xml version=\"1.0\"?><failureDetails><parameterError parameter=\"%s\" "
		"error=\"%s\" /></failureDetails>",
		param, error);
	CU_ASSERT_EQUAL(req(method, path, NULL, body), 400);
	CU_ASSERT_PTR_NOT_NULL_FATAL(R.body);
	if (strcmp(R.body, want))
		fprintf(stderr, "\n%s %s: got %s\n", method, body, R.body);
	CU_ASSERT_STRING_EQUAL(R.body, want);
}

static void test_cospace_bad_params(void)
{
	char path[128], long_tag[160], long_name[300];

	fresh();
	create("coSpaces", "name=ok", path, sizeof(path));
	expect_param_error("POST", "/api/v1/coSpaces", "callId=12a", "callId", "invalidValue");
	expect_param_error("POST", "/api/v1/coSpaces", "passcode=12+34", "passcode",
		"invalidValue");
	expect_param_error("POST", "/api/v1/coSpaces", "colour=red", "colour", "unrecognized");
	expect_param_error("POST", "/api/v1/coSpaces", "autoGenerated=true", "autoGenerated",
		"unrecognized");
	expect_param_error("POST", "/api/v1/coSpaces", "nonMemberAccess=maybe", "nonMemberAccess",
		"invalidValue");
	expect_param_error("POST", "/api/v1/coSpaces", "defaultLayout=mosaic", "defaultLayout",
		"invalidValue");
	expect_param_error("POST", "/api/v1/coSpaces", "tenant=nope", "tenant", "invalidValue");
	expect_param_error("POST", "/api/v1/coSpaces", "secret=a%2Fb", "secret", "invalidValue");
	expect_param_error("POST", "/api/v1/coSpaces", "regenerateSecret=yes", "regenerateSecret",
		"invalidValue");
	expect_param_error("POST", "/api/v1/coSpaces", "name=a%0Ab", "name", "invalidValue");
	expect_param_error("POST", "/api/v1/coSpaces", "name=%C3%28", "name", "invalidValue");
	snprintf(long_tag, sizeof(long_tag), "cdrTag=%0101d", 7);
	expect_param_error("POST", "/api/v1/coSpaces", long_tag, "cdrTag", "valueTooLong");
	long_tag[strlen(long_tag) - 1] = '\0'; /* 100 is fine */
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces", NULL, long_tag), 200);
	snprintf(long_name, sizeof(long_name), "callId=%040d", 1);
	expect_param_error("PUT", path, long_name, "callId", "valueTooLong");
	CU_ASSERT_EQUAL(req("PUT", path, NULL, "defaultLayout=speakerOnly&requireCallId=true"),
		200);
	/* a failed PUT changes nothing */
	expect_param_error("PUT", path, "name=changed&callId=x", "callId", "invalidValue");
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT(has("<name>ok</name>"));
	CU_ASSERT(has("<defaultLayout>speakerOnly</defaultLayout>"));
	CU_ASSERT(has("<requireCallId>true</requireCallId>"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", NULL, NULL), 200);
	CU_ASSERT(has("total=\"2\""));
	done();
}

static void test_pagination_filter(void)
{
	char path[128], body[64];

	fresh();
	for (int i = 0; i < 25; i++) {
		snprintf(body, sizeof(body), "name=room%02d&uri=u%02d&callId=%d", i, i, 5000 + i);
		create("coSpaces", body, path, sizeof(path));
	}
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", NULL, NULL), 200);
	CU_ASSERT(has("<coSpaces total=\"25\">"));
	CU_ASSERT_EQUAL(count("<coSpace id="), 20);
	CU_ASSERT(has("room00") && has("room19") && !has("room20"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "limit=100", NULL), 200);
	CU_ASSERT_EQUAL(count("<coSpace id="), 20);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "offset=22&limit=5", NULL), 200);
	CU_ASSERT(has("total=\"25\""));
	CU_ASSERT_EQUAL(count("<coSpace id="), 3);
	CU_ASSERT(has("room22") && has("room24") && !has("room21"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "offset=5&limit=2", NULL), 200);
	CU_ASSERT(has("room05") && has("room06") && count("<coSpace id=") == 2);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "offset=99", NULL), 200);
	CU_ASSERT(has("<coSpaces total=\"25\"></coSpaces>"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "limit=0", NULL), 200);
	CU_ASSERT(has("<coSpaces total=\"25\"></coSpaces>"));
	/* the query may also ride on the path */
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces?limit=1&offset=3", NULL, NULL), 200);
	CU_ASSERT(has("room03") && count("<coSpace id=") == 1);
	/* filter: name, uri, callId; case-insensitive; with pagination */
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "filter=ROOM1", NULL), 200);
	CU_ASSERT(has("total=\"10\""));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "filter=5003", NULL), 200);
	CU_ASSERT(has("total=\"1\"") && has("room03"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "filter=u2&limit=2", NULL), 200);
	CU_ASSERT(has("total=\"5\"") && count("<coSpace id=") == 2);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "filter=%25", NULL), 200);
	CU_ASSERT(has("total=\"0\""));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "filter=nothing&tenantFilter=x", NULL), 200);
	CU_ASSERT(has("total=\"0\""));
	/* bad values */
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "offset=abc", NULL), 400);
	CU_ASSERT(has("<parameterError parameter=\"offset\" error=\"invalidValue\" />"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "limit=-1", NULL), 400);
	CU_ASSERT(has("parameter=\"limit\""));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "offset=99999999999999", NULL), 400);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", "filter=%zz", NULL), 400);
	CU_ASSERT(has("parameter=\"filter\""));
	done();
}

static void test_webbridges(void)
{
	static const char *const bad[] = { "url=http://edge:6000", "url=c2w://edge",
		"url=c2w://edge:0", "url=c2w://edge:65536", "url=c2w://:6000",
		"url=c2w://edge:6000/x", "url=https://ed%20ge", "url=c2w://a..b:6000",
		"url=https://[zz::1]:445", "url=edge.cms.demo", NULL };
	char path[128], status[160], prof[128], body[192];

	fresh();
	for (int i = 0; bad[i]; i++)
		expect_param_error("POST", "/api/v1/webBridges", bad[i], "url", "invalidValue");
	CU_ASSERT_EQUAL(n_changed, 0);
	create("webBridges", "url=c2w%3A%2F%2Fedge.cms.demo%3A6000", path, sizeof(path));
	CU_ASSERT_EQUAL(n_changed, 1);
	CU_ASSERT_STRING_EQUAL(last_changed, "webBridges");
	CU_ASSERT_EQUAL(req("GET", "/api/v1/webBridges", NULL, NULL), 200);
	CU_ASSERT(has("<?xml version=\"1.0\"?><webBridges total=\"1\"><webBridge id=\""));
	CU_ASSERT(has("\"><url>c2w://edge.cms.demo:6000</url></webBridge></webBridges>"));
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT(has("<url>c2w://edge.cms.demo:6000</url>"));
	snprintf(status, sizeof(status), "%s/status", path);
	CU_ASSERT_EQUAL(req("GET", status, NULL, NULL), 200);
	CU_ASSERT(has("<webBridge id=\"") &&
		has("\"><status>connectionFailure</status></webBridge>"));
	api.env.webbridge_status = NULL;
	CU_ASSERT_EQUAL(req("GET", status, NULL, NULL), 200);
	CU_ASSERT(has("<status>unused</status>"));
	CU_ASSERT_EQUAL(req("POST", status, NULL, NULL), 405);
	CU_ASSERT(has("<invalidOperation />"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/webBridges/00000000-0000-4000-8000-000000000000/status",
				NULL, NULL),
		404);
	CU_ASSERT(has("<webBridgeDoesNotExist />"));
	/* a profile that is not there is refused; one that is, taken */
	CU_ASSERT_EQUAL(req("PUT", path, NULL,
				"webBridgeProfile=11111111-2222-4333-8444-555555555555"),
		400);
	CU_ASSERT(has("<webBridgeProfileDoesNotExist />"));
	create("webBridgeProfiles", "name=p", prof, sizeof(prof));
	snprintf(body, sizeof(body),
		"url=https%%3A%%2F%%2F%%5B2001%%3Adb8%%3A%%3A1%%5D%%3A445&"
		"webBridgeProfile=%s",
		strrchr(prof, '/') + 1);
	CU_ASSERT_EQUAL(req("PUT", path, NULL, body), 200);
	CU_ASSERT_EQUAL(n_changed, 2);
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT(has("<url>https://[2001:db8::1]:445</url>"));
	CU_ASSERT(has(strrchr(prof, '/') + 1));
	CU_ASSERT_EQUAL(req("PUT", path, NULL, "url=https%3A%2F%2Fwb.example.com"), 200);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/webBridges", "filter=EXAMPLE", NULL), 200);
	CU_ASSERT(has("total=\"1\""));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/webBridges", "filter=cms.demo", NULL), 200);
	CU_ASSERT(has("total=\"0\""));
	expect_param_error("PUT", path, "resourceArchive=x", "resourceArchive", "unrecognized");
	CU_ASSERT_EQUAL(n_changed, 3);
	CU_ASSERT_EQUAL(req("DELETE", path, NULL, NULL), 200);
	CU_ASSERT_EQUAL(n_changed, 4);
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 404);
	CU_ASSERT(has("<webBridgeDoesNotExist />"));
	CU_ASSERT_EQUAL(req("DELETE", path, NULL, NULL), 404);
	CU_ASSERT_EQUAL(n_changed, 4);
	done();
}

static void test_turnservers(void)
{
	char path[128];

	fresh();
	expect_param_error("POST", "/api/v1/turnServers", "type=coturn", "type", "invalidValue");
	expect_param_error("POST", "/api/v1/turnServers", "tcpPortNumberOverride=0",
		"tcpPortNumberOverride", "invalidValue");
	expect_param_error("POST", "/api/v1/turnServers", "tcpPortNumberOverride=65536",
		"tcpPortNumberOverride", "invalidValue");
	expect_param_error("POST", "/api/v1/turnServers", "tcpPortNumberOverride=44x",
		"tcpPortNumberOverride", "invalidValue");
	expect_param_error("POST", "/api/v1/turnServers", "serverAddress=a+b", "serverAddress",
		"invalidValue");
	CU_ASSERT_EQUAL(n_changed, 0);
	create("turnServers",
		"serverAddress=192.0.2.2&clientAddress=edge.cms.demo&username=turnuser&"
		"password=p%26ss&type=cms&tcpPortNumberOverride=447",
		path, sizeof(path));
	CU_ASSERT_EQUAL(n_changed, 1);
	CU_ASSERT_STRING_EQUAL(last_changed, "turnServers");
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT(has("<serverAddress>192.0.2.2</serverAddress>"));
	CU_ASSERT(has("<clientAddress>edge.cms.demo</clientAddress>"));
	CU_ASSERT(has("<username>turnuser</username>"));
	CU_ASSERT(has("<type>cms</type>"));
	CU_ASSERT(has("<tcpPortNumberOverride>447</tcpPortNumberOverride>"));
	CU_ASSERT(!has("password") && !has("p&amp;ss"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/turnServers", NULL, NULL), 200);
	CU_ASSERT(has("<turnServers total=\"1\"><turnServer id=\""));
	CU_ASSERT(has("<serverAddress>192.0.2.2</serverAddress><clientAddress>edge.cms.demo"
		      "</clientAddress></turnServer></turnServers>"));
	/* unset type is the default, standard; unset port leaves it out */
	CU_ASSERT_EQUAL(req("PUT", path, NULL, "type=&tcpPortNumberOverride="), 200);
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 200);
	CU_ASSERT(has("<type>standard</type>"));
	CU_ASSERT(!has("tcpPortNumberOverride"));
	CU_ASSERT_EQUAL(n_changed, 2);
	{
		struct cb_turnserver ts[2];

		CU_ASSERT_EQUAL(cb_db_turnservers(db, ts, 2), 1);
		CU_ASSERT_STRING_EQUAL(ts[0].password, "p&ss");
		CU_ASSERT_STRING_EQUAL(ts[0].type, "standard");
	}
	CU_ASSERT_EQUAL(req("GET", "/api/v1/turnServers", "filter=edge.cms", NULL), 200);
	CU_ASSERT(has("total=\"1\""));
	CU_ASSERT_EQUAL(req("DELETE", path, NULL, NULL), 200);
	CU_ASSERT_EQUAL(req("GET", path, NULL, NULL), 404);
	CU_ASSERT(has("<turnServerDoesNotExist />"));
	CU_ASSERT_EQUAL(n_changed, 3);
	done();
}

static void test_paths_methods(void)
{
	static const char *const unknown[] = { "/api/v1/foo", "/api/v1", "/api/v1/",
		"/api/v2/coSpaces", "/api/v1//coSpaces", "/api/v1/coSpaces/x/y/z",
		"/api/v1/coSpaces/x/accessMethods/y/z", "/api/v1/webBridges/x/accessMethods",
		"/api/v1/turnServers/x/status", "/api/v1/calls/x/y", "/api/v1/cospace", "/api",
		NULL };

	fresh();
	for (int i = 0; unknown[i]; i++) {
		CU_ASSERT_EQUAL(req("GET", unknown[i], NULL, NULL), 404);
		CU_ASSERT_STRING_EQUAL(R.body,
			"<?xml version=\"1.0\"?><failureDetails>"
			"<unrecognizedObject /></failureDetails>");
	}
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces/", NULL, NULL), 200);
	CU_ASSERT_EQUAL(req("PUT", "/api/v1/coSpaces", NULL, "name=x"), 405);
	CU_ASSERT(has("<invalidOperation />"));
	CU_ASSERT_EQUAL(req("DELETE", "/api/v1/webBridges", NULL, NULL), 405);
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces/abc", NULL, "name=x"), 405);
	CU_ASSERT_EQUAL(req("PATCH", "/api/v1/coSpaces", NULL, NULL), 405);
	CU_ASSERT_EQUAL(req(NULL, "/api/v1/coSpaces", NULL, NULL), 405);
	CU_ASSERT_EQUAL(req("POST", "/api/v1/calls", NULL, "coSpace=x"), 405);
	CU_ASSERT_EQUAL(req("PUT", "/api/v1/callLegs/x", NULL, "x=1"), 405);
	CU_ASSERT_EQUAL(req("POST", "/api/v1/calls/x/callLegs", NULL, "remoteParty=x"), 405);
	/* no drop_call callback: calls are not ours to end */
	CU_ASSERT_EQUAL(req("DELETE", "/api/v1/calls/x", NULL, NULL), 405);
	CU_ASSERT_EQUAL(req("GET", "/nowhere", NULL, NULL), 404);
	CU_ASSERT_STRING_EQUAL(R.content_type, "text/html; charset=utf-8");
	CU_ASSERT_EQUAL(req("DELETE", "/", NULL, NULL), 405);
	CU_ASSERT_EQUAL(req("GET", NULL, NULL, NULL), 404);
	done();
}

/* Two guests in space 9999, one with its WebSocket up. */
static struct cb_call call;
static struct cb_leg leg1, leg2;

static void build_model(void)
{
	time_t now = time(NULL);

	memset(&call, 0, sizeof(call));
	memset(&leg1, 0, sizeof(leg1));
	memset(&leg2, 0, sizeof(leg2));
	snprintf(call.id, sizeof(call.id), "04704220-0000-4000-8000-00000000000c");
	snprintf(call.correlator, sizeof(call.correlator), "5d031ae1-0000-4000-8000-000000000000");
	snprintf(call.cospace, sizeof(call.cospace), "58ef98d1-0000-4000-8000-000000000000");
	snprintf(call.name, sizeof(call.name), "9999");
	call.started = now - 60;
	call.n_legs = 2;
	call.max_legs = 3;
	snprintf(leg1.id, sizeof(leg1.id), "fcfe42f4-0000-4000-8000-000000000001");
	snprintf(leg1.participant_id, sizeof(leg1.participant_id),
		"aaaaaaaa-0000-4000-8000-000000000001");
	snprintf(leg1.guest, sizeof(leg1.guest), "guest1234567890");
	snprintf(leg1.name, sizeof(leg1.name), "Thomas <T&T>");
	leg1.started = now - 30;
	leg1.session = true;
	leg1.audio_muted = true;
	leg1.call = &call;
	snprintf(leg2.id, sizeof(leg2.id), "fcfe42f4-0000-4000-8000-000000000002");
	snprintf(leg2.participant_id, sizeof(leg2.participant_id),
		"aaaaaaaa-0000-4000-8000-000000000002");
	snprintf(leg2.guest, sizeof(leg2.guest), "guest0000000002");
	snprintf(leg2.name, sizeof(leg2.name), "Anna");
	leg2.started = now;
	leg2.call = &call;
	call.legs = &leg1;
	leg1.next = &leg2;
	model.calls = &call;
	model.n_calls = 1;
}

static void test_live(void)
{
	fresh();
	CU_ASSERT_EQUAL(req("GET", "/api/v1/calls", NULL, NULL), 200);
	CU_ASSERT_STRING_EQUAL(R.body, "<?xml version=\"1.0\"?><calls total=\"0\"></calls>");
	build_model();
	CU_ASSERT_EQUAL(req("GET", "/api/v1/calls", NULL, NULL), 200);
	CU_ASSERT_STRING_EQUAL(R.body,
		"<?xml version=\"1.0\"?><calls total=\"1\">"
		"<call id=\"04704220-0000-4000-8000-00000000000c\"><name>9999</name>"
		"<coSpace>58ef98d1-0000-4000-8000-000000000000</coSpace>"
		"<callCorrelator>5d031ae1-0000-4000-8000-000000000000</callCorrelator></call>"
		"</calls>");
	CU_ASSERT_EQUAL(req("GET", "/api/v1/calls/04704220-0000-4000-8000-00000000000c", NULL,
				NULL),
		200);
	CU_ASSERT(has("<callType>coSpace</callType>"));
	CU_ASSERT(has("<durationSeconds>6")); /* 60, or 61 across a second */
	CU_ASSERT(has("<numCallLegs>2</numCallLegs><maxCallLegs>3</maxCallLegs>"
		      "<numParticipantsLocal>2</numParticipantsLocal>"
		      "<numParticipantsRemote>0</numParticipantsRemote>"
		      "<numDistributedInstances>0</numDistributedInstances>"
		      "<locked>false</locked><recording>false</recording>"
		      "<streaming>false</streaming></call>"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/calls/nope", NULL, NULL), 404);
	CU_ASSERT(has("<callDoesNotExist />"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/calls", "filter=888", NULL), 200);
	CU_ASSERT(has("total=\"0\""));

	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs", NULL, NULL), 200);
	CU_ASSERT(has("<callLegs total=\"2\">"));
	CU_ASSERT(has("<callLeg id=\"fcfe42f4-0000-4000-8000-000000000001\">"
		      "<name>Thomas &lt;T&amp;T&gt;</name>"
		      "<remoteParty>guest1234567890</remoteParty>"
		      "<originalRemoteParty>guest1234567890</originalRemoteParty>"
		      "<call>04704220-0000-4000-8000-00000000000c</call></callLeg>"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs", "filter=anna", NULL), 200);
	CU_ASSERT(has("total=\"1\"") && has("<name>Anna</name>") && !has("Thomas"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs", "offset=1", NULL), 200);
	CU_ASSERT(has("total=\"2\"") && has("Anna") && !has("Thomas"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs/fcfe42f4-0000-4000-8000-000000000001", NULL,
				NULL),
		200);
	CU_ASSERT(has("<type>acano</type><subtype>webApp</subtype><direction>incoming</direction>"
		      "<canMove>false</canMove><status><state>connected</state>"));
	CU_ASSERT(has("<encryptedMedia>false</encryptedMedia><rxAudio><muted>true</muted>"
		      "</rxAudio><rxVideo role=\"main\"><muted>false</muted></rxVideo></status>"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs/fcfe42f4-0000-4000-8000-000000000002", NULL,
				NULL),
		200);
	CU_ASSERT(has("<state>initial</state><durationSeconds>"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs/aaaaaaaa-0000-4000-8000-000000000001", NULL,
				NULL),
		404);
	CU_ASSERT(has("<callLegDoesNotExist />"));

	CU_ASSERT_EQUAL(req("GET", "/api/v1/participants", NULL, NULL), 200);
	CU_ASSERT(has("<participants total=\"2\"><participant "
		      "id=\"aaaaaaaa-0000-4000-8000-000000000001\"><name>Thomas &lt;T&amp;T&gt;"
		      "</name><call>04704220-0000-4000-8000-00000000000c</call></participant>"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/participants/aaaaaaaa-0000-4000-8000-000000000002",
				NULL, NULL),
		200);
	CU_ASSERT(has("<numCallLegs>1</numCallLegs><uri>guest0000000002</uri>"
		      "<userJid>guest0000000002</userJid><isActivator>true</isActivator>"
		      "<status><state>initial</state>"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/participants/fcfe42f4-0000-4000-8000-000000000002",
				NULL, NULL),
		404);
	CU_ASSERT(has("<participantDoesNotExist />"));

	/* sub-collections */
	CU_ASSERT_EQUAL(req("GET", "/api/v1/calls/04704220-0000-4000-8000-00000000000c/callLegs",
				NULL, NULL),
		200);
	CU_ASSERT(has("<callLegs total=\"2\">") && count("<callLeg id=") == 2);
	CU_ASSERT_EQUAL(req("GET",
				"/api/v1/calls/04704220-0000-4000-8000-00000000000c/participants",
				"limit=1", NULL),
		200);
	CU_ASSERT(has("<participants total=\"2\">") && count("<participant id=") == 1);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/calls/nope/participants", NULL, NULL), 404);
	CU_ASSERT(has("<callDoesNotExist />"));
	CU_ASSERT_EQUAL(req("GET",
				"/api/v1/participants/"
				"aaaaaaaa-0000-4000-8000-000000000002/callLegs",
				NULL, NULL),
		200);
	CU_ASSERT(has("<callLegs total=\"1\">"
		      "<callLeg id=\"fcfe42f4-0000-4000-8000-000000000002\">"));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/participants/nope/callLegs", NULL, NULL), 404);
	CU_ASSERT(has("<participantDoesNotExist />"));

	/* no model at all: nothing is live */
	api.model = NULL;
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs", NULL, NULL), 200);
	CU_ASSERT(has("total=\"0\""));
	CU_ASSERT_EQUAL(req("GET", "/api/v1/calls/x/callLegs", NULL, NULL), 404);
	CU_ASSERT_EQUAL(req("GET", "/", NULL, NULL), 200);
	done();
}

/* The media server's side of GET /callLegs/<id>, faked: leg 1 is connected and sends and
 * receives; any other leg is unknown to it. */
static char media_asked[64];
static bool lock_free_in_media;

static uint64_t media_reports; /* receiver report blocks the media server saw */

static int t_leg_media(void *ctx, const char *id, struct media_leg_stats *out)
{
	(void)ctx;
	snprintf(media_asked, sizeof(media_asked), "%s", id);
	lock_free_in_media = pthread_mutex_trylock(&model.lock) == 0;
	if (lock_free_in_media)
		pthread_mutex_unlock(&model.lock);
	memset(out, 0, sizeof(*out));
	if (strcmp(id, "fcfe42f4-0000-4000-8000-000000000001"))
		return -ENOENT;
	out->connected = true;
	out->rx_audio =
		(struct media_flow_stats){ .packets = 500, .bytes = 40000, .bit_rate = 41000 };
	out->rx_video =
		(struct media_flow_stats){ .packets = 900, .bytes = 900000, .bit_rate = 1200000 };
	out->tx_audio =
		(struct media_flow_stats){ .packets = 400, .bytes = 30000, .bit_rate = 39000 };
	out->tx_video =
		(struct media_flow_stats){ .packets = 800, .bytes = 700000, .bit_rate = 950000 };
	out->rx_video_loss_permille = 23;
	out->rx_video_fps = 30;
	out->rx_video_width = 640;
	out->rx_video_height = 480;
	out->report_blocks = media_reports;
	out->tx_audio_loss_permille = 5;
	out->tx_audio_jitter_ms = 3;
	out->tx_video_loss_permille = 117;
	out->tx_video_jitter_ms = 12;
	out->rtt_ms = media_reports ? 7 : 0;
	return 0;
}

static void test_leg_media(void)
{
	media_reports = 0;
	fresh();
	build_model();
	api.env.leg_media = t_leg_media;
	/* leg 1 sends Opus and VP8 and takes leg 2, which sends Opus and H.264 */
	leg1.audio_ssrc = 0x1111;
	leg1.video_ssrc = 0x2222;
	snprintf(leg1.video_codec, sizeof(leg1.video_codec), "VP8");
	snprintf(leg1.pair_src[1], sizeof(leg1.pair_src[1]), "%s", leg2.id);
	leg2.audio_ssrc = 0x3333;
	leg2.video_ssrc = 0x4444;
	snprintf(leg2.video_codec, sizeof(leg2.video_codec), "H264");
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs/fcfe42f4-0000-4000-8000-000000000001", NULL,
				NULL),
		200);
	CU_ASSERT_STRING_EQUAL(media_asked, "fcfe42f4-0000-4000-8000-000000000001");
	CU_ASSERT(lock_free_in_media);
	CU_ASSERT(has("<encryptedMedia>true</encryptedMedia>"
		      "<rxAudio><codec>opus</codec><bitRate>41000</bitRate><muted>true</muted>"
		      "</rxAudio>"
		      "<txAudio><codec>opus</codec><bitRate>39000</bitRate></txAudio>"
		      "<rxVideo role=\"main\"><codec>vp8</codec><width>640</width>"
		      "<height>480</height><frameRate>30</frameRate><bitRate>1200000</bitRate>"
		      "<packetLossPercentage>2.3</packetLossPercentage>"
		      "<muted>false</muted></rxVideo>"
		      "<txVideo role=\"main\"><codec>h264</codec><bitRate>950000</bitRate>"
		      "</txVideo></status>"));
	/* what we cannot know is left out, not made up: no receiver report yet, no loss or
	 * jitter on what we send */
	CU_ASSERT(!has("<jitter>"));
	/* with its reports: loss and jitter of what we send it */
	media_reports = 4;
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs/fcfe42f4-0000-4000-8000-000000000001", NULL,
				NULL),
		200);
	CU_ASSERT(has("<txAudio><codec>opus</codec><bitRate>39000</bitRate><jitter>3</jitter>"
		      "<roundTripTime>7</roundTripTime>"
		      "<packetLossPercentage>0.5</packetLossPercentage></txAudio>"));
	CU_ASSERT(has("<txVideo role=\"main\"><codec>h264</codec><bitRate>950000</bitRate>"
		      "<jitter>12</jitter><roundTripTime>7</roundTripTime>"
		      "<packetLossPercentage>11.7</packetLossPercentage></txVideo>"));
	media_reports = 0;

	/* no video sent, no source yet: codecs unknown, bit rates still there */
	leg1.video_ssrc = 0;
	leg1.pair_src[1][0] = '\0';
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs/fcfe42f4-0000-4000-8000-000000000001", NULL,
				NULL),
		200);
	CU_ASSERT(has("<txAudio><bitRate>39000</bitRate></txAudio>"));
	CU_ASSERT(has("<rxVideo role=\"main\"><bitRate>1200000</bitRate><muted>false</muted>"));
	CU_ASSERT(has("<txVideo role=\"main\"><bitRate>950000</bitRate></txVideo>"));

	/* a leg the media server does not know: as before, no figures */
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs/fcfe42f4-0000-4000-8000-000000000002", NULL,
				NULL),
		200);
	CU_ASSERT(has("<encryptedMedia>false</encryptedMedia><rxAudio><muted>false</muted>"
		      "</rxAudio><rxVideo role=\"main\"><muted>false</muted></rxVideo></status>"));
	CU_ASSERT(!has("bitRate") && !has("txAudio"));

	/* lists and participants never ask the media server */
	media_asked[0] = '\0';
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs", NULL, NULL), 200);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/participants/aaaaaaaa-0000-4000-8000-000000000001",
				NULL, NULL),
		200);
	CU_ASSERT_STRING_EQUAL(media_asked, "");
	CU_ASSERT(!has("bitRate"));
	/* an unknown leg: 404 whatever the media server says */
	CU_ASSERT_EQUAL(req("GET", "/api/v1/callLegs/nope", NULL, NULL), 404);
	done();
}

static void test_drop(void)
{
	fresh();
	build_model();
	CU_ASSERT_EQUAL(req("DELETE", "/api/v1/callLegs/fcfe42f4-0000-4000-8000-000000000002", NULL,
				NULL),
		200);
	CU_ASSERT_STRING_EQUAL(dropped, "fcfe42f4-0000-4000-8000-000000000002");
	CU_ASSERT(lock_free_in_drop);
	drop_rc = -ENOENT;
	CU_ASSERT_EQUAL(req("DELETE", "/api/v1/callLegs/fcfe42f4-0000-4000-8000-00000000000f", NULL,
				NULL),
		404);
	CU_ASSERT(has("<callLegDoesNotExist />"));
	drop_rc = 0;
	/* a participant is dropped through its leg */
	dropped[0] = '\0';
	CU_ASSERT_EQUAL(req("DELETE", "/api/v1/participants/aaaaaaaa-0000-4000-8000-000000000001",
				NULL, NULL),
		200);
	CU_ASSERT_STRING_EQUAL(dropped, "fcfe42f4-0000-4000-8000-000000000001");
	CU_ASSERT(lock_free_in_drop);
	dropped[0] = '\0';
	CU_ASSERT_EQUAL(req("DELETE", "/api/v1/participants/nope", NULL, NULL), 404);
	CU_ASSERT(has("<participantDoesNotExist />"));
	CU_ASSERT_EQUAL(dropped[0], '\0');
	/* ids too long to be ours are not passed on */
	CU_ASSERT_EQUAL(req("DELETE",
				"/api/v1/callLegs/fcfe42f4-0000-4000-8000-0000000000020000000000",
				NULL, NULL),
		404);
	CU_ASSERT_EQUAL(dropped[0], '\0');
	api.env.drop_leg = NULL;
	CU_ASSERT_EQUAL(req("DELETE", "/api/v1/callLegs/fcfe42f4-0000-4000-8000-000000000002", NULL,
				NULL),
		405);
	CU_ASSERT(has("<invalidOperation />"));
	done();
}

static void test_general_page(void)
{
	struct cb_general g;

	fresh();
	build_model();
	CU_ASSERT_EQUAL(req("GET", "/general", NULL, NULL), 200);
	CU_ASSERT_STRING_EQUAL(R.content_type, "text/html; charset=utf-8");
	CU_ASSERT(has("<form method=\"post\" action=\"/general\">"));
	CU_ASSERT(has("name=\"turnServerAddress\" value=\"\""));
	CU_ASSERT_EQUAL(req("POST", "/general", NULL,
				"turnServerAddress=198.18.20.1&turnClientAddress=edge.cms.demo&"
				"turnUsername=u%3Cx%3E&turnPassword=pw1&turnPasswordConfirm=pw1&"
				"submit=Submit"),
		303);
	CU_ASSERT_STRING_EQUAL(R.location, "/general");
	CU_ASSERT_EQUAL(n_changed, 1);
	CU_ASSERT_STRING_EQUAL(last_changed, "general");
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_server_address, "198.18.20.1");
	CU_ASSERT_STRING_EQUAL(g.turn_client_address, "edge.cms.demo");
	CU_ASSERT_STRING_EQUAL(g.turn_username, "u<x>");
	CU_ASSERT_STRING_EQUAL(g.turn_password, "pw1");
	CU_ASSERT_EQUAL(req("GET", "/general", NULL, NULL), 200);
	CU_ASSERT(has("value=\"198.18.20.1\""));
	CU_ASSERT(has("value=\"u&lt;x&gt;\""));
	CU_ASSERT(!has("pw1"));
	/* blank password fields leave it; other fields absent leave them too */
	CU_ASSERT_EQUAL(req("POST", "/general", NULL,
				"turnUsername=v&turnPassword=&turnPasswordConfirm="),
		303);
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_username, "v");
	CU_ASSERT_STRING_EQUAL(g.turn_password, "pw1");
	CU_ASSERT_STRING_EQUAL(g.turn_server_address, "198.18.20.1");
	/* mismatch, bad address, malformed form: 400, nothing saved */
	CU_ASSERT_EQUAL(req("POST", "/general", NULL, "turnPassword=a&turnPasswordConfirm=b"), 400);
	CU_ASSERT(has("do not match"));
	CU_ASSERT_EQUAL(req("POST", "/general", NULL, "turnServerAddress=not+a+host"), 400);
	CU_ASSERT(has("TURN Server address (Call Bridge): not a valid value"));
	CU_ASSERT(has("value=\"not a host\""));
	CU_ASSERT_EQUAL(req("POST", "/general", NULL, "turnUsername=%G0"), 400);
	CU_ASSERT_EQUAL(n_changed, 2);
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_server_address, "198.18.20.1");
	/* the status page */
	CU_ASSERT_EQUAL(req("POST", "/api/v1/webBridges", NULL, "url=c2w%3A%2F%2Fedge%3A6000"),
		200);
	CU_ASSERT_EQUAL(req("GET", "/", NULL, NULL), 200);
	CU_ASSERT(has("320d02c3-0000-4000-8000-000000000001"));
	CU_ASSERT(has("<tr><th>Active calls</th><td>1</td></tr>"));
	CU_ASSERT(has("<tr><th>Participants</th><td>2</td></tr>"));
	CU_ASSERT(has("198.18.20.1") && has("edge.cms.demo"));
	CU_ASSERT(has("<tr><th>Password</th><td>set</td></tr>"));
	CU_ASSERT(!has("pw1"));
	CU_ASSERT(has("<tr><td>c2w://edge:6000</td><td>connectionFailure</td></tr>"));
	/* clear the password: only the checkbox's value "1" does */
	CU_ASSERT_EQUAL(req("POST", "/general", NULL, "turnPasswordClear="), 303);
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_password, "pw1");
	CU_ASSERT_EQUAL(req("POST", "/general", NULL, "turnPasswordClear"), 303);
	CU_ASSERT_EQUAL(req("POST", "/general", NULL, "turnPasswordClear=0"), 303);
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_password, "pw1");
	CU_ASSERT_EQUAL(req("POST", "/general", NULL, "turnPasswordClear=1"), 303);
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_password, "");
	/* the guests' shared secret: typed twice, never shown, cleared by its own box */
	CU_ASSERT_EQUAL(req("POST", "/general", NULL,
				"turnSharedSecret=s1&turnSharedSecretConfirm=s2"),
		400);
	CU_ASSERT(has("The shared secrets do not match"));
	CU_ASSERT_EQUAL(req("POST", "/general", NULL,
				"turnSharedSecret=guest-s3cret&turnSharedSecretConfirm=guest-s3cret"),
		303);
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_shared_secret, "guest-s3cret");
	CU_ASSERT_EQUAL(req("GET", "/general", NULL, NULL), 200);
	CU_ASSERT(has("Shared secret (guests) (set; blank = unchanged)"));
	CU_ASSERT(!has("guest-s3cret"));
	CU_ASSERT_EQUAL(req("GET", "/", NULL, NULL), 200);
	CU_ASSERT(has("<tr><th>Shared secret (guests)</th><td>set</td></tr>"));
	CU_ASSERT(!has("guest-s3cret"));
	CU_ASSERT_EQUAL(req("POST", "/general", NULL, "turnPasswordClear=1"), 303);
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_shared_secret, "guest-s3cret");
	CU_ASSERT_EQUAL(req("POST", "/general", NULL, "turnSharedSecretClear=1"), 303);
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_shared_secret, "");
	CU_ASSERT_EQUAL(req("PUT", "/general", NULL, NULL), 405);
	done();
}

static void test_garbage(void)
{
	size_t big = 100 * 1024;
	char *buf = malloc(big + 1);
	static const char *const bad_forms[] = { "name=%", "name=%4", "name=%zz", "name=%00", "=x",
		"%=1", "name=a%", "name=%%41", NULL };

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	fresh();
	/* bad %-encoding: 400 parameterError, no object made */
	for (int i = 0; bad_forms[i]; i++) {
		CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces", NULL, bad_forms[i]), 400);
		CU_ASSERT(has("<parameterError"));
	}
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces", NULL, "na%ZZme=x"), 400);
	/* a body with NULs inside its length */
	CU_ASSERT_EQUAL(call_as("admin", "s3cret", "POST", "/api/v1/coSpaces", NULL, "name=a\0b=c",
				10),
		400);
	/* binary */
	for (size_t i = 0; i < 4096; i++)
		buf[i] = (char)(i * 7 + 3);
	CU_ASSERT(call_as("admin", "s3cret", "POST", "/api/v1/coSpaces", NULL, buf, 4096) == 400);
	CU_ASSERT(
		call_as("admin", "s3cret", "PUT", "/api/v1/webBridges/x", NULL, buf, 4096) == 400);
	/* too large */
	memset(buf, 'a', big);
	buf[big] = '\0';
	CU_ASSERT_EQUAL(call_as("admin", "s3cret", "POST", "/api/v1/coSpaces", NULL, buf,
				CB_API_MAX_BODY + 1),
		413);
	CU_ASSERT_EQUAL(call_as("admin", "s3cret", "POST", "/general", NULL, buf,
				CB_API_MAX_BODY + 1),
		413);
	/* a long value inside the limit: valueTooLong */
	memcpy(buf, "name=", 5);
	CU_ASSERT_EQUAL(call_as("admin", "s3cret", "POST", "/api/v1/coSpaces", NULL, buf,
				CB_API_MAX_BODY),
		400);
	CU_ASSERT(has("valueTooLong"));
	/* too many parameters */
	buf[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(buf, "name=a&");
	CU_ASSERT_EQUAL(req("POST", "/api/v1/coSpaces", NULL, buf), 400);
	/* very long paths */
	memset(buf, 'x', big);
	memcpy(buf, "/api/v1/coSpaces/", 17);
	buf[big] = '\0';
	CU_ASSERT_EQUAL(req("GET", buf, NULL, NULL), 404);
	CU_ASSERT(has("<coSpaceDoesNotExist />"));
	CU_ASSERT_EQUAL(req("DELETE", buf, NULL, NULL), 404);
	memcpy(buf, "/api/v1/callLegs/", 17);
	CU_ASSERT_EQUAL(req("DELETE", buf, NULL, NULL), 404);
	memcpy(buf, "/api/v1/xxxxxxx/", 16);
	CU_ASSERT_EQUAL(req("GET", buf, NULL, NULL), 404);
	CU_ASSERT(has("<unrecognizedObject />"));
	buf[0] = 'z';
	CU_ASSERT_EQUAL(req("GET", buf, NULL, NULL), 404);
	for (size_t i = 1; i < big; i++)
		buf[i] = (char)(1 + (i * 31) % 255);
	buf[0] = '/';
	CU_ASSERT_EQUAL(req("GET", buf, NULL, NULL), 404);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces/%zz%00", NULL, NULL), 404);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/co%53paces", NULL, NULL), 404);
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces/'; DROP TABLE coSpaces; --", NULL, NULL), 404);
	/* random junk everywhere: any 2xx-5xx answer, never a crash */
	srand(7);
	for (int n = 0; n < 3000; n++) {
		static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "HEAD" };
		static const char *const bases[] = { "/api/v1/coSpaces", "/api/v1/webBridges",
			"/api/v1/turnServers", "/api/v1/calls", "/api/v1/callLegs",
			"/api/v1/participants", "/general", "/" };
		static const char alphabet[] = "ab=&%+0129xZ/?\xff\x01<>\"'.:-_";
		char path[80], body[120];
		int len = rand() % (int)sizeof(body);
		int st;

		snprintf(path, sizeof(path), "%s%s", bases[rand() % 8], rand() % 2 ? "" : "/0");
		for (int i = 0; i < len; i++)
			body[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		body[len] = '\0';
		st = call_as("admin", "s3cret", methods[rand() % 5], path, rand() % 3 ? NULL : body,
			body, (size_t)len);
		CU_ASSERT(st >= 200 && st < 600);
	}
	CU_ASSERT_EQUAL(req("GET", "/api/v1/coSpaces", NULL, NULL), 200);
	free(buf);
	done();
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "auth", test_auth },
		{ "roles: each against each page and method", test_roles },
		{ "credentials decided before the body", test_check_before_body },
		{ "coSpace create/get/list/put/delete", test_cospace_crud },
		{ "coSpace escaping", test_cospace_escaping },
		{ "coSpace duplicates", test_cospace_duplicates },
		{ "coSpace parameter errors", test_cospace_bad_params },
		{ "pagination and filter", test_pagination_filter },
		{ "webBridges", test_webbridges },
		{ "turnServers", test_turnservers },
		{ "coSpace accessMethods", test_access_methods },
		{ "webBridgeProfiles, system profiles", test_wbprofiles },
		{ "unknown paths and methods", test_paths_methods },
		{ "calls, callLegs, participants", test_live },
		{ "callLeg media status", test_leg_media },
		{ "DELETE callLeg/participant", test_drop },
		{ "webadmin general and status pages", test_general_page },
		{ "garbage", test_garbage },
		{ NULL, NULL },
	};

	return unit_run("cb_api", tests);
}
