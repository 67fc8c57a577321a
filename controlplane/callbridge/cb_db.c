/* The callbridge's store in SQLite (cb_db.h): one table per API object, built from the same
 * field tables the REST API parses and renders with, plus a key/value table of settings. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "cb_db.h"

#define CB_DB_SCHEMA_VERSION 2 /* the steps to it: migrate() */
#define SQL_MAX 2048
#define QUOTE_(x) #x
#define CB_DB_STRINGIFY(x) QUOTE_(x)

struct cb_db {
	sqlite3 *sql;
	char notice[4608]; /* what opening did that the log should say, or "" */
};

/* --- validators --- */

int cb_db_check_text(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;

	while (*p) {
		uint32_t cp;
		int n;

		if (*p < 0x20 || *p == 0x7f)
			return -EINVAL;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else {
			return -EINVAL;
		}
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -EINVAL;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
			cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
			cp == 0xffff || (cp >= 0x80 && cp < 0xa0))
			return -EINVAL;
		p += n + 1;
	}
	return 0;
}

static int check_digits(const char *v)
{
	for (const char *p = v; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	return 0;
}

static int check_label_chars(const char *v, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = v[i];

		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_'))
			return -EINVAL;
		if (++label > 63)
			return -EINVAL;
	}
	return 0;
}

/* A host name (or IPv4 address), or an IPv6 address, bracketed or not. */
static int check_host_n(const char *v, size_t len)
{
	char buf[64];
	struct in6_addr a6;

	if (len && v[0] == '[') {
		if (len < 3 || v[len - 1] != ']' || len - 2 >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, v + 1, len - 2);
		buf[len - 2] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1 ? 0 : -EINVAL;
	}
	if (memchr(v, ':', len)) {
		if (len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, v, len);
		buf[len] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1 ? 0 : -EINVAL;
	}
	return check_label_chars(v, len);
}

int cb_db_check_host(const char *v)
{
	return check_host_n(v, strlen(v));
}

static int check_port(const char *p, size_t len)
{
	unsigned long n = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		n = n * 10 + (unsigned long)(p[i] - '0');
	}
	return n >= 1 && n <= 65535 ? 0 : -EINVAL;
}

/* c2w://host:port (port required) or https://host[:port]. */
static int check_url(const char *v)
{
	const char *host, *end, *colon;
	bool need_port;

	if (!strncmp(v, "c2w://", 6)) {
		host = v + 6;
		need_port = true;
	} else if (!strncmp(v, "https://", 8)) {
		host = v + 8;
		need_port = false;
	} else {
		return -EINVAL;
	}
	end = host + strlen(host);
	if (*host == '[') {
		const char *rb = strchr(host, ']');

		if (!rb)
			return -EINVAL;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (!colon && rb + 1 != end)
			return -EINVAL;
	} else {
		colon = strchr(host, ':');
	}
	if (!colon && need_port)
		return -EINVAL;
	if (colon && check_port(colon + 1, (size_t)(end - colon - 1)))
		return -EINVAL;
	return check_host_n(host, (size_t)((colon ? colon : end) - host));
}

static int check_guid(const char *v)
{
	if (strlen(v) != 36)
		return -EINVAL;
	for (int i = 0; i < 36; i++) {
		char c = v[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return -EINVAL;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
				   (c >= 'A' && c <= 'F'))) {
			return -EINVAL;
		}
	}
	return 0;
}

static const char secret_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

static int check_secret(const char *v)
{
	return strspn(v, secret_chars) == strlen(v) ? 0 : -EINVAL;
}

static int check_one_of(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(v, *list))
			return 0;
	return -EINVAL;
}

static int check_layout(const char *v)
{
	static const char *const layouts[] = { "allEqual", "speakerOnly", "telepresence", "stacked",
		"allEqualQuarters", "allEqualNinths", "allEqualSixteenths", "allEqualTwentyFifths",
		"onePlusFive", "onePlusSeven", "onePlusNine", "automatic", "onePlusN", NULL };

	return check_one_of(v, layouts);
}

static int check_turn_type(const char *v)
{
	static const char *const types[] = { "acano", "cms", "expressway", "lyncEdge", "standard",
		NULL };

	return check_one_of(v, types);
}

static int check_uri_resolution(const char *v)
{
	static const char *const modes[] = { "off", "domainSuggestionDisabled",
		"domainSuggestionEnabled", NULL };

	return check_one_of(v, modes);
}

static int check_scope(const char *v)
{
	static const char *const scopes[] = { "public", "private", NULL };

	return check_one_of(v, scopes);
}

/* --- the objects' fields --- */

#define STR(st, api, m, fl, chk)                                                                   \
	{                                                                                          \
		api, CB_FT_STR, offsetof(st, m), sizeof(((st *)0)->m), fl, "", chk, 0, 0           \
	}
#define STRD(st, api, m, fl, def, chk)                                                             \
	{                                                                                          \
		api, CB_FT_STR, offsetof(st, m), sizeof(((st *)0)->m), fl, def, chk, 0, 0          \
	}
#define BOOL(st, api, m, def)                                                                      \
	{                                                                                          \
		api, CB_FT_BOOL, offsetof(st, m), 0, 0, def, NULL, 0, 0                            \
	}
#define INT(st, api, m, lo, hi)                                                                    \
	{                                                                                          \
		api, CB_FT_INT, offsetof(st, m), 0, 0, "", NULL, lo, hi                            \
	}

static const struct cb_db_field cospace_fields[] = {
	STR(struct cb_cospace, "name", name, CB_DBF_LIST, NULL),
	{ "autoGenerated", CB_FT_CONST, 0, 0, CB_DBF_LIST, "false", NULL, 0, 0 },
	STR(struct cb_cospace, "uri", uri, CB_DBF_LIST, NULL),
	STR(struct cb_cospace, "secondaryUri", secondary_uri, CB_DBF_LIST, NULL),
	STR(struct cb_cospace, "callId", call_id, CB_DBF_LIST, check_digits),
	STR(struct cb_cospace, "passcode", passcode, 0, check_digits),
	STR(struct cb_cospace, "secret", secret, 0, check_secret),
	BOOL(struct cb_cospace, "requireCallId", require_call_id, "false"),
	STR(struct cb_cospace, "cdrTag", cdr_tag, 0, NULL),
	STR(struct cb_cospace, "defaultLayout", default_layout, 0, check_layout),
	BOOL(struct cb_cospace, "nonMemberAccess", non_member_access, "true"),
	STR(struct cb_cospace, "ownerJid", owner_jid, 0, NULL),
	STR(struct cb_cospace, "streamUrl", stream_url, 0, NULL),
	STR(struct cb_cospace, "callLegProfile", call_leg_profile, 0, check_guid),
	STR(struct cb_cospace, "callProfile", call_profile, 0, check_guid),
	STR(struct cb_cospace, "callBrandingProfile", call_branding_profile, 0, check_guid),
	STR(struct cb_cospace, "tenant", tenant, CB_DBF_LIST, check_guid),
};

static const struct cb_db_field webbridge_fields[] = {
	STR(struct cb_webbridge, "url", url, CB_DBF_LIST, check_url),
	STR(struct cb_webbridge, "tenant", tenant, CB_DBF_LIST, check_guid),
	STR(struct cb_webbridge, "tenantGroup", tenant_group, 0, check_guid),
	STR(struct cb_webbridge, "callBridge", call_bridge, 0, check_guid),
	STR(struct cb_webbridge, "callBridgeGroup", call_bridge_group, 0, check_guid),
	STR(struct cb_webbridge, "webBridgeProfile", web_bridge_profile, 0, check_guid),
};

static const struct cb_db_field turnserver_fields[] = {
	STR(struct cb_turnserver, "serverAddress", server_address, CB_DBF_LIST, cb_db_check_host),
	STR(struct cb_turnserver, "clientAddress", client_address, CB_DBF_LIST, cb_db_check_host),
	STR(struct cb_turnserver, "username", username, 0, NULL),
	STR(struct cb_turnserver, "password", password, CB_DBF_HIDDEN, NULL),
	STR(struct cb_turnserver, "sharedSecret", shared_secret, CB_DBF_HIDDEN, NULL),
	STRD(struct cb_turnserver, "type", type, 0, "standard", check_turn_type),
	INT(struct cb_turnserver, "numRegistrations", num_registrations, 1, 1000),
	INT(struct cb_turnserver, "tcpPortNumberOverride", tcp_port_number_override, 1, 65535),
	STR(struct cb_turnserver, "callBridge", call_bridge, 0, check_guid),
	STR(struct cb_turnserver, "callBridgeGroup", call_bridge_group, 0, check_guid),
};

static const struct cb_db_field accessmethod_fields[] = {
	STR(struct cb_accessmethod, "coSpace", cospace, CB_DBF_PARENT, check_guid),
	STR(struct cb_accessmethod, "uri", uri, CB_DBF_LIST, NULL),
	STR(struct cb_accessmethod, "callId", call_id, CB_DBF_LIST, check_digits),
	STR(struct cb_accessmethod, "passcode", passcode, CB_DBF_LIST, check_digits),
	STR(struct cb_accessmethod, "name", name, CB_DBF_LIST, NULL),
	STR(struct cb_accessmethod, "secret", secret, CB_DBF_LIST, check_secret),
	STRD(struct cb_accessmethod, "scope", scope, CB_DBF_LIST, "public", check_scope),
	STR(struct cb_accessmethod, "callLegProfile", call_leg_profile, 0, check_guid),
};

static const struct cb_db_field wbprofile_fields[] = {
	STR(struct cb_wbprofile, "name", name, CB_DBF_LIST, NULL),
	STR(struct cb_wbprofile, "resourceArchive", resource_archive, 0, NULL),
	BOOL(struct cb_wbprofile, "allowPasscodes", allow_passcodes, "true"),
	BOOL(struct cb_wbprofile, "allowSecrets", allow_secrets, "true"),
	BOOL(struct cb_wbprofile, "userPortalEnabled", user_portal_enabled, "true"),
	BOOL(struct cb_wbprofile, "allowUnauthenticatedGuests", allow_unauthenticated_guests,
		"true"),
	BOOL(struct cb_wbprofile, "resolveCoSpaceCallIds", resolve_cospace_call_ids, "true"),
	BOOL(struct cb_wbprofile, "resolveLyncConferenceIds", resolve_lync_conference_ids, "false"),
	STRD(struct cb_wbprofile, "resolveCoSpaceUris", resolve_cospace_uris, 0, "off",
		check_uri_resolution),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct cb_db_class classes[CB_DB_NKINDS] = {
	[CB_DB_COSPACE] = { "coSpaces", "coSpace", sizeof(struct cb_cospace), cospace_fields,
		N(cospace_fields) },
	[CB_DB_WEBBRIDGE] = { "webBridges", "webBridge", sizeof(struct cb_webbridge),
		webbridge_fields, N(webbridge_fields) },
	[CB_DB_TURNSERVER] = { "turnServers", "turnServer", sizeof(struct cb_turnserver),
		turnserver_fields, N(turnserver_fields) },
	[CB_DB_ACCESSMETHOD] = { "accessMethods", "accessMethod", sizeof(struct cb_accessmethod),
		accessmethod_fields, N(accessmethod_fields) },
	[CB_DB_WBPROFILE] = { "webBridgeProfiles", "webBridgeProfile", sizeof(struct cb_wbprofile),
		wbprofile_fields, N(wbprofile_fields) },
};

/* The columns a list's filter looks in. */
static const char *const filter_cols[CB_DB_NKINDS][4] = {
	[CB_DB_COSPACE] = { "name", "uri", "callId", NULL },
	[CB_DB_WEBBRIDGE] = { "url", NULL },
	[CB_DB_TURNSERVER] = { "serverAddress", "clientAddress", NULL },
	[CB_DB_ACCESSMETHOD] = { "name", "uri", "callId", NULL },
	[CB_DB_WBPROFILE] = { "name", NULL },
};

const struct cb_db_class *cb_db_class(enum cb_db_kind kind)
{
	return (unsigned int)kind < CB_DB_NKINDS ? &classes[kind] : NULL;
}

const struct cb_db_field *cb_db_field(enum cb_db_kind kind, const char *name)
{
	const struct cb_db_class *c = cb_db_class(kind);

	for (unsigned int i = 0; c && i < c->n_fields; i++)
		if (!strcmp(c->fields[i].name, name))
			return &c->fields[i];
	return NULL;
}

static int set_default(const struct cb_db_field *f, void *obj)
{
	char *p = (char *)obj + f->off;

	switch (f->type) {
	case CB_FT_STR:
		snprintf(p, f->size, "%s", f->def);
		return 0;
	case CB_FT_BOOL:
		*(bool *)p = !strcmp(f->def, "true");
		return 0;
	case CB_FT_INT:
		*(int *)p = 0;
		return 0;
	case CB_FT_CONST:
		break;
	}
	return -EINVAL;
}

void cb_db_obj_init(enum cb_db_kind kind, void *obj)
{
	const struct cb_db_class *c = cb_db_class(kind);

	if (!c)
		return;
	memset(obj, 0, c->size);
	for (unsigned int i = 0; i < c->n_fields; i++)
		set_default(&c->fields[i], obj);
}

int cb_db_field_set(const struct cb_db_field *f, void *obj, const char *value)
{
	char *p = (char *)obj + f->off;
	size_t len = strlen(value);

	if (f->type == CB_FT_CONST)
		return -EINVAL;
	if (!len)
		return set_default(f, obj);
	switch (f->type) {
	case CB_FT_STR:
		if (len >= f->size)
			return -E2BIG;
		if (cb_db_check_text(value) || (f->check && f->check(value)))
			return -EINVAL;
		memcpy(p, value, len + 1);
		return 0;
	case CB_FT_BOOL:
		if (!strcasecmp(value, "true"))
			*(bool *)p = true;
		else if (!strcasecmp(value, "false"))
			*(bool *)p = false;
		else
			return -EINVAL;
		return 0;
	case CB_FT_INT: {
		long n = 0;

		if (len > 6 || check_digits(value))
			return -EINVAL;
		n = strtol(value, NULL, 10);
		if (n < f->min || n > f->max)
			return -EINVAL;
		*(int *)p = (int)n;
		return 0;
	}
	case CB_FT_CONST:
		break;
	}
	return -EINVAL;
}

const char *cb_db_field_get(const struct cb_db_field *f, const void *obj, char *buf, size_t len)
{
	const char *p = (const char *)obj + f->off;

	switch (f->type) {
	case CB_FT_STR:
		snprintf(buf, len, "%s", p);
		break;
	case CB_FT_BOOL:
		snprintf(buf, len, "%s", *(const bool *)p ? "true" : "false");
		break;
	case CB_FT_INT:
		if (*(const int *)p)
			snprintf(buf, len, "%d", *(const int *)p);
		else if (len)
			buf[0] = '\0';
		break;
	case CB_FT_CONST:
		snprintf(buf, len, "%s", f->def);
		break;
	}
	return buf;
}

/* --- ids and secrets --- */

static int random_fill(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cb_db_uuid(char *out)
{
	uint8_t b[16];
	int rc = random_fill(b, sizeof(b));

	if (rc)
		return rc;
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, CB_DB_ID_LEN,
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		b[15]);
	return 0;
}

int cb_db_secret(char *out)
{
	uint8_t b[CB_DB_SECRET_LEN];
	int rc = random_fill(b, sizeof(b));

	if (rc)
		return rc;
	/* 64 symbols: each byte's low six bits pick one without bias */
	for (int i = 0; i < CB_DB_SECRET_LEN; i++)
		out[i] = secret_chars[b[i] & 63];
	out[CB_DB_SECRET_LEN] = '\0';
	return 0;
}

/* --- SQL --- */

static int sql_exec(struct cb_db *db, const char *sql)
{
	return sqlite3_exec(db->sql, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int sql_prepare(struct cb_db *db, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(db->sql, sql, -1, st, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* Appends to a statement being built; our identifiers only, never a value. */
static void sql_cat(char *sql, const char *fmt, const char *a)
{
	size_t n = strlen(sql);

	snprintf(sql + n, SQL_MAX - n, fmt, a);
}

static bool stored(const struct cb_db_field *f)
{
	return f->type != CB_FT_CONST;
}

/* "c1, c2, ..." or with a suffix per column ("c1 = ?, c2 = ?"). */
static void sql_columns(char *sql, const struct cb_db_class *c, const char *suffix)
{
	bool first = true;

	for (unsigned int i = 0; i < c->n_fields; i++) {
		if (!stored(&c->fields[i]))
			continue;
		sql_cat(sql, first ? "%s" : ", %s", c->fields[i].name);
		sql_cat(sql, "%s", suffix);
		first = false;
	}
}

static int bind_fields(sqlite3_stmt *st, const struct cb_db_class *c, const void *obj, int idx)
{
	for (unsigned int i = 0; i < c->n_fields; i++) {
		const struct cb_db_field *f = &c->fields[i];
		const char *p = (const char *)obj + f->off;
		int rc = SQLITE_OK;

		switch (f->type) {
		case CB_FT_STR:
			rc = *p ? sqlite3_bind_text(st, idx, p, -1, SQLITE_TRANSIENT) :
				  sqlite3_bind_null(st, idx);
			break;
		case CB_FT_BOOL:
			rc = sqlite3_bind_int(st, idx, *(const bool *)p);
			break;
		case CB_FT_INT:
			rc = *(const int *)p ? sqlite3_bind_int(st, idx, *(const int *)p) :
					       sqlite3_bind_null(st, idx);
			break;
		case CB_FT_CONST:
			continue;
		}
		if (rc != SQLITE_OK)
			return -EIO;
		idx++;
	}
	return idx;
}

/* Reads "id, c1, c2, ..." from the statement's current row. */
static void read_fields(sqlite3_stmt *st, const struct cb_db_class *c, void *obj)
{
	const unsigned char *t;
	int col = 1;

	memset(obj, 0, c->size);
	t = sqlite3_column_text(st, 0);
	snprintf(obj, CB_DB_ID_LEN, "%s", t ? (const char *)t : "");
	for (unsigned int i = 0; i < c->n_fields; i++) {
		const struct cb_db_field *f = &c->fields[i];
		char *p = (char *)obj + f->off;

		if (!stored(f))
			continue;
		if (sqlite3_column_type(st, col) == SQLITE_NULL) {
			set_default(f, obj);
		} else if (f->type == CB_FT_STR) {
			t = sqlite3_column_text(st, col);
			snprintf(p, f->size, "%s", t ? (const char *)t : "");
		} else if (f->type == CB_FT_BOOL) {
			*(bool *)p = sqlite3_column_int(st, col) != 0;
		} else {
			*(int *)p = sqlite3_column_int(st, col);
		}
		col++;
	}
}

/* --- the schema and its migrations --- */

/* A field's column type in create_tables() (the steps spell theirs out, frozen). */
static const char *col_type(const struct cb_db_field *f)
{
	return f->type == CB_FT_STR ? "TEXT" : "INTEGER";
}

/* The current schema, for a new database: one table per class, from its fields. */
static int create_tables(struct cb_db *db)
{
	char sql[SQL_MAX];

	for (int k = 0; k < CB_DB_NKINDS; k++) {
		const struct cb_db_class *c = &classes[k];

		snprintf(sql, sizeof(sql), "CREATE TABLE %s (id TEXT PRIMARY KEY", c->plural);
		for (unsigned int i = 0; i < c->n_fields; i++) {
			const struct cb_db_field *f = &c->fields[i];

			if (!stored(f))
				continue;
			sql_cat(sql, ", %s", f->name);
			sql_cat(sql, " %s", col_type(f));
			/* a backstop under the explicit checks in check_unique() */
			if (k == CB_DB_COSPACE &&
				(!strcmp(f->name, "uri") || !strcmp(f->name, "callId")))
				sql_cat(sql, "%s", " UNIQUE");
		}
		sql_cat(sql, "%s", ")");
		if (sql_exec(db, sql))
			return -EIO;
	}
	return sql_exec(db, "CREATE TABLE general (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
}

/* 1 if table has column col, 0 if not, -EIO. */
static int has_column(struct cb_db *db, const char *table, const char *col)
{
	sqlite3_stmt *st;
	int rc;

	if (sql_prepare(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", &st))
		return -EIO;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

/* Version 2 (issue 19): what builds from 2f3e74f back to 283ed04 added to a version 1
 * database without changing its version: the tables of access methods (f6a5ea7) and web
 * bridge profiles (e507193) and turnServers.sharedSecret (2f3e74f, which added it with
 * ALTER TABLE on open). A version 1 file may so be any of those shapes: the step makes what
 * is missing and keeps what is there. Frozen: a later change to the field tables is a step
 * 2 to 3, never an edit here. */
static int step_1_to_2(struct cb_db *db)
{
	static const char *const tables[] = {
		"CREATE TABLE IF NOT EXISTS accessMethods (id TEXT PRIMARY KEY, coSpace TEXT, "
		"uri TEXT, callId TEXT, passcode TEXT, name TEXT, secret TEXT, scope TEXT, "
		"callLegProfile TEXT)",
		"CREATE TABLE IF NOT EXISTS webBridgeProfiles (id TEXT PRIMARY KEY, name TEXT, "
		"resourceArchive TEXT, allowPasscodes INTEGER, allowSecrets INTEGER, "
		"userPortalEnabled INTEGER, allowUnauthenticatedGuests INTEGER, "
		"resolveCoSpaceCallIds INTEGER, resolveLyncConferenceIds INTEGER, "
		"resolveCoSpaceUris TEXT)",
	};
	int rc;

	for (unsigned int i = 0; i < N(tables); i++)
		if (sql_exec(db, tables[i]))
			return -EIO;
	rc = has_column(db, "turnServers", "sharedSecret");
	if (rc < 0)
		return rc;
	return rc ? 0 : sql_exec(db, "ALTER TABLE turnServers ADD COLUMN sharedSecret TEXT");
}

/* A forward step from version from to from + 1, in the transaction of every step. */
struct cb_db_step {
	int from;
	const char *what;
	int (*run)(struct cb_db *db);
};

static const struct cb_db_step steps[] = {
	{ 1, "access methods, web bridge profiles, turnServers.sharedSecret", step_1_to_2 },
};

_Static_assert(N(steps) == CB_DB_SCHEMA_VERSION - 1, "a migration step for every version");

/* Every table has every column the field tables read and write: 0, or -EPROTO with the
 * missing one in err. A test on the migrated old fixture keeps the steps and the field
 * tables in agreement; this keeps a database some other tool changed from failing later. */
static int check_schema(struct cb_db *db, char *err, size_t errlen)
{
	for (int k = 0; k < CB_DB_NKINDS; k++) {
		const struct cb_db_class *c = &classes[k];

		for (unsigned int i = 0; i < c->n_fields; i++) {
			const struct cb_db_field *f = &c->fields[i];
			int rc;

			if (!stored(f))
				continue;
			rc = has_column(db, c->plural, f->name);
			if (rc < 0)
				return rc;
			if (!rc) {
				snprintf(err, errlen, "table %s has no column %s", c->plural,
					f->name);
				return -EPROTO;
			}
		}
	}
	return 0;
}

/* One value from a statement that returns one row (PRAGMA user_version, quick_check). */
static int pragma_text(struct cb_db *db, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	if (sql_prepare(db, sql, &st))
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(out, len, "%s", t ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

/* PRAGMA quick_check: 0 when it says "ok", else -EIO with its first findings (or SQLite's
 * error) in out. */
static int quick_check(struct cb_db *db, char *out, size_t len)
{
	sqlite3_stmt *st;
	int rc, rows = 0;

	out[0] = '\0';
	if (sql_prepare(db, "PRAGMA quick_check(3)", &st)) {
		snprintf(out, len, "%s", sqlite3_errmsg(db->sql));
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		size_t n = strlen(out);

		if (!t || !strncmp(t, "*** in database", 15))
			continue;
		snprintf(out + n, len - n, "%s%s", rows++ ? "; " : "", t);
	}
	if (rc != SQLITE_DONE)
		snprintf(out, len, "%s", sqlite3_errmsg(db->sql));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE && !strcmp(out, "ok") ? 0 : -EIO;
}

/* Tables in the file (not SQLite's own): 0 means a new database. */
static int count_tables(struct cb_db *db)
{
	char n[16];

	if (pragma_text(db,
		    "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
		    "'sqlite\\_%' ESCAPE '\\'",
		    n, sizeof(n)))
		return -EIO;
	return atoi(n);
}

/* The file as it is, before a migration changes it, copied beside it as <path>.pre-v<from>
 * (0600: it holds TURN passwords), through a temporary name so a copy is whole or absent. */
static int copy_before(struct cb_db *db, const char *path, int from, char *copy, size_t len,
	char *err, size_t errlen)
{
	char tmp[4200];
	sqlite3_stmt *st;
	int fd, rc;

	if ((size_t)snprintf(copy, len, "%s.pre-v%d", path, from) >= len ||
		(size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", copy) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: name too long for its copy", path);
		return -ENAMETOOLONG;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot make %s: %s", path, tmp, strerror(errno));
		return rc;
	}
	close(fd);
	rc = sql_prepare(db, "VACUUM INTO ?1", &st);
	if (!rc) {
		sqlite3_bind_text(st, 1, tmp, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_finalize(st);
	}
	if (rc) {
		snprintf(err, errlen, "%s: cannot copy it to %s before migrating: %s", path, tmp,
			sqlite3_errmsg(db->sql));
		unlink(tmp);
		return rc;
	}
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) || rename(tmp, copy)) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot keep its copy %s: %s", path, copy,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return rc;
	}
	close(fd);
	return 0;
}

/* From version (0: a new file) to CB_DB_SCHEMA_VERSION in one transaction: all the steps or,
 * on any failure, none (ROLLBACK leaves the file as it was). */
static int migrate(struct cb_db *db, const char *path, int version, char *err, size_t errlen)
{
	const struct cb_db_step *failed = NULL;
	char why[256] = "";
	int rc;

	if (sql_exec(db, "BEGIN IMMEDIATE")) {
		snprintf(err, errlen, "%s: cannot begin the schema transaction: %s", path,
			sqlite3_errmsg(db->sql));
		return -EIO;
	}
	if (version == 0) {
		rc = create_tables(db);
	} else {
		rc = 0;
		for (unsigned int i = 0; !rc && i < N(steps); i++) {
			if (steps[i].from < version)
				continue;
			rc = steps[i].run(db);
			if (rc)
				failed = &steps[i];
		}
	}
	if (rc)
		snprintf(why, sizeof(why), "%s", sqlite3_errmsg(db->sql));
	else if ((rc = check_schema(db, why, sizeof(why))) == -EIO)
		snprintf(why, sizeof(why), "%s", sqlite3_errmsg(db->sql));
	if (!rc &&
		(sql_exec(db, "PRAGMA user_version = " CB_DB_STRINGIFY(CB_DB_SCHEMA_VERSION)) ||
			sql_exec(db, "COMMIT"))) {
		snprintf(why, sizeof(why), "%s", sqlite3_errmsg(db->sql));
		rc = -EIO;
	}
	if (!rc)
		return 0;
	sql_exec(db, "ROLLBACK");
	if (version == 0)
		snprintf(err, errlen, "%s: cannot create the schema (version %d): %s", path,
			CB_DB_SCHEMA_VERSION, why);
	else if (failed)
		snprintf(err, errlen,
			"%s: migrating the schema from version %d to %d failed at step %d to %d "
			"(%s): %s; the database is left as it was",
			path, version, CB_DB_SCHEMA_VERSION, failed->from, failed->from + 1,
			failed->what, why);
	else
		snprintf(err, errlen,
			"%s: migrating the schema from version %d to %d failed: %s; the database "
			"is left as it was",
			path, version, CB_DB_SCHEMA_VERSION, why);
	return rc;
}

static int mkdir_p(const char *path)
{
	char dir[4096];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* The -wal and -shm a build before this one may have left with the umask's mode. */
static void chmod_side(const char *path)
{
	static const char *const ext[] = { "-wal", "-shm" };
	char side[4096];

	for (unsigned int i = 0; i < N(ext); i++)
		if ((size_t)snprintf(side, sizeof(side), "%s%s", path, ext[i]) < sizeof(side))
			chmod(side, 0600);
}

int cb_db_open(const char *path, struct cb_db **dbp, char *err, size_t errlen)
{
	bool file = strcmp(path, ":memory:") && strncmp(path, "file:", 5);
	char copy[4200] = "", text[256];
	struct cb_db *db;
	int version, tables, rc, fd;

	*dbp = NULL;
	if (file && (rc = mkdir_p(path))) {
		snprintf(err, errlen, "%s: cannot make its directory: %s", path, strerror(-rc));
		return rc;
	}
	db = calloc(1, sizeof(*db));
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* It holds TURN passwords: the file is made (or made again, if an older build left it
	 * with the umask's mode) 0600 before SQLite opens it; SQLite gives the -wal and -shm the
	 * database's mode, whatever the umask, when it makes them. */
	if (file) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || fchmod(fd, 0600)) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			free(db);
			return rc;
		}
		close(fd);
	}
	if (sqlite3_open_v2(path, &db->sql,
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
		    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			db->sql ? sqlite3_errmsg(db->sql) : "cannot open");
		rc = -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(db->sql, 2000);
	/* what is in the file, read before anything writes to it: a file that is not a
	 * database, or a corrupt one, is refused as it is */
	if (pragma_text(db, "PRAGMA user_version", text, sizeof(text))) {
		snprintf(err, errlen, "%s: %s: %s", path,
			sqlite3_errcode(db->sql) == SQLITE_CORRUPT ? "the database is corrupt" :
								     "not a usable database",
			sqlite3_errmsg(db->sql));
		rc = -EIO;
		goto fail;
	}
	version = atoi(text);
	if (quick_check(db, text, sizeof(text))) {
		snprintf(err, errlen, "%s: the database is corrupt (quick_check: %s)", path, text);
		rc = -EIO;
		goto fail;
	}
	if ((tables = count_tables(db)) < 0) {
		snprintf(err, errlen, "%s: not a usable database: %s", path,
			sqlite3_errmsg(db->sql));
		rc = -EIO;
		goto fail;
	}
	if (version > CB_DB_SCHEMA_VERSION) {
		snprintf(err, errlen,
			"%s: schema version %d is newer than this build's %d (made by a newer "
			"edge?): not opened",
			path, version, CB_DB_SCHEMA_VERSION);
		rc = -EPROTO;
		goto fail;
	}
	if (version == 0 && tables) {
		snprintf(err, errlen,
			"%s: not a callbridge database: %d tables and no schema version", path,
			tables);
		rc = -EPROTO;
		goto fail;
	}
	if (version > 0 && version < CB_DB_SCHEMA_VERSION && file &&
		(rc = copy_before(db, path, version, copy, sizeof(copy), err, errlen)))
		goto fail;
	if (version < CB_DB_SCHEMA_VERSION && (rc = migrate(db, path, version, err, errlen)))
		goto fail;
	if (version == CB_DB_SCHEMA_VERSION && (rc = check_schema(db, text, sizeof(text)))) {
		snprintf(err, errlen, "%s: schema version %d, but %s", path, version,
			rc == -EIO ? sqlite3_errmsg(db->sql) : text);
		goto fail;
	}
	/* after the migration: a file an older SQLite setting left in rollback mode stays
	 * byte for byte as it was when a step fails */
	if (sql_exec(db, "PRAGMA journal_mode=WAL") || sql_exec(db, "PRAGMA synchronous=NORMAL"))
		goto sqlfail;
	if (file)
		chmod_side(path);
	if (version > 0 && version < CB_DB_SCHEMA_VERSION)
		snprintf(db->notice, sizeof(db->notice),
			"%s: schema migrated from version %d to %d%s%s", path, version,
			CB_DB_SCHEMA_VERSION, copy[0] ? "; the old database is kept as " : "",
			copy);
	*dbp = db;
	return 0;
sqlfail:
	snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db->sql));
	rc = -EIO;
fail:
	sqlite3_close(db->sql);
	free(db);
	return rc;
}

const char *cb_db_notice(const struct cb_db *db)
{
	return db ? db->notice : "";
}

void cb_db_close(struct cb_db *db)
{
	if (!db)
		return;
	sqlite3_close(db->sql);
	free(db);
}

/* Who else uses value as a meeting ID, skipping the row self: 1 if another space (or one of
 * its access methods) does, 2 if space itself (or another of its access methods) does with
 * the same passcode, 0 if nobody, -EIO. */
static int meeting_id_used(struct cb_db *db, const char *value, const char *space, const char *self,
	const char *passcode)
{
	static const char sql[] =
		"SELECT id, passcode FROM coSpaces "
		"WHERE (callId = ?1 OR uri = ?1 OR secondaryUri = ?1) AND id <> ?2 "
		"UNION ALL SELECT coSpace, passcode FROM accessMethods "
		"WHERE (callId = ?1 OR uri = ?1) AND id <> ?2";
	sqlite3_stmt *st;
	int rc = SQLITE_DONE, used = 0;

	if (sql_prepare(db, sql, &st))
		return -EIO;
	sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, self, -1, SQLITE_STATIC);
	while (used != 1 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *owner = (const char *)sqlite3_column_text(st, 0);
		const char *pc = (const char *)sqlite3_column_text(st, 1);

		if (!owner || strcmp(owner, space))
			used = 1;
		else if (!strcmp(pc ? pc : "", passcode))
			used = 2;
	}
	sqlite3_finalize(st);
	return used == 1 || rc == SQLITE_DONE ? used : -EIO;
}

/* The real API's rules: callIds are unique, and so are URIs, primary or secondary. And since
 * guests join with any of them as the meeting ID, which must name one space, a callId may not
 * be another space's URI either, nor a URI another's callId: a callId that clashes is a
 * duplicate callId (duplicateCoSpaceId), a URI that clashes a duplicate URI
 * (duplicateCoSpaceUri). A space's access methods count as the space: they may reuse its
 * meeting IDs, or each other's, with another passcode (else "passcode":
 * duplicateCoSpaceIdPasscode). A space's own callId and URI may be equal. */
static int check_unique(struct cb_db *db, enum cb_db_kind kind, const void *obj, const char **dup)
{
	const struct cb_cospace *cs = obj;
	const struct cb_accessmethod *am = obj;
	const bool is_am = kind == CB_DB_ACCESSMETHOD;
	const struct {
		const char *name, *value;
	} checks[] = {
		{ "callId", is_am ? am->call_id : cs->call_id },
		{ "uri", is_am ? am->uri : cs->uri },
		{ "secondaryUri", is_am ? "" : cs->secondary_uri },
	};

	for (unsigned int i = 0; i < N(checks); i++) {
		int rc;

		if (!checks[i].value[0])
			continue;
		rc = meeting_id_used(db, checks[i].value, is_am ? am->cospace : cs->id,
			is_am ? am->id : cs->id, is_am ? am->passcode : cs->passcode);
		if (rc < 0)
			return rc;
		if (rc) {
			*dup = rc == 2 ? "passcode" : checks[i].name;
			return -EEXIST;
		}
	}
	return 0;
}

/* What a write does first: a secret for a coSpace or access method that has a callId, the
 * access method's space, and the unique checks. */
static int before_write(struct cb_db *db, enum cb_db_kind kind, void *obj, const char **dup)
{
	struct cb_cospace *cs = obj;
	struct cb_accessmethod *am = obj;
	union cb_db_any parent;
	int rc;

	if (kind == CB_DB_COSPACE) {
		if (cs->call_id[0] && !cs->secret[0] && (rc = cb_db_secret(cs->secret)))
			return rc;
	} else if (kind == CB_DB_ACCESSMETHOD) {
		if ((rc = cb_db_obj_get(db, CB_DB_COSPACE, am->cospace, &parent)))
			return rc;
		if (am->call_id[0] && !am->secret[0] && (rc = cb_db_secret(am->secret)))
			return rc;
	} else {
		return 0;
	}
	return check_unique(db, kind, obj, dup);
}

static int step_write(sqlite3_stmt *st, const char **dup)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT) {
		*dup = NULL;
		return -EEXIST;
	}
	return -EIO;
}

int cb_db_obj_add(struct cb_db *db, enum cb_db_kind kind, void *obj, const char **dup)
{
	const struct cb_db_class *c = cb_db_class(kind);
	char sql[SQL_MAX], *id = obj;
	const char *dummy;
	sqlite3_stmt *st;
	int rc;

	if (!c)
		return -EINVAL;
	if (!dup)
		dup = &dummy;
	if ((rc = cb_db_uuid(id)) || (rc = before_write(db, kind, obj, dup)))
		return rc;
	snprintf(sql, sizeof(sql), "INSERT INTO %s (id, ", c->plural);
	sql_columns(sql, c, "");
	sql_cat(sql, "%s", ") VALUES (?");
	for (unsigned int i = 0; i < c->n_fields; i++)
		if (stored(&c->fields[i]))
			sql_cat(sql, "%s", ", ?");
	sql_cat(sql, "%s", ")");
	if (sql_prepare(db, sql, &st))
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (bind_fields(st, c, obj, 2) < 0) {
		sqlite3_finalize(st);
		return -EIO;
	}
	return step_write(st, dup);
}

int cb_db_obj_update(struct cb_db *db, enum cb_db_kind kind, void *obj, const char **dup)
{
	const struct cb_db_class *c = cb_db_class(kind);
	char sql[SQL_MAX], *id = obj;
	const char *dummy;
	sqlite3_stmt *st;
	int rc, idx;

	if (!c)
		return -EINVAL;
	if (!dup)
		dup = &dummy;
	if ((rc = before_write(db, kind, obj, dup)))
		return rc;
	snprintf(sql, sizeof(sql), "UPDATE %s SET ", c->plural);
	sql_columns(sql, c, " = ?");
	sql_cat(sql, "%s", " WHERE id = ?");
	if (sql_prepare(db, sql, &st))
		return -EIO;
	idx = bind_fields(st, c, obj, 1);
	if (idx < 0) {
		sqlite3_finalize(st);
		return -EIO;
	}
	sqlite3_bind_text(st, idx, id, -1, SQLITE_STATIC);
	rc = step_write(st, dup);
	if (rc)
		return rc;
	return sqlite3_changes(db->sql) ? 0 : -ENOENT;
}

int cb_db_obj_delete(struct cb_db *db, enum cb_db_kind kind, const char *id)
{
	const struct cb_db_class *c = cb_db_class(kind);
	char sql[SQL_MAX];
	const char *dup;
	sqlite3_stmt *st;
	int rc;

	if (!c)
		return -EINVAL;
	if (kind == CB_DB_COSPACE && sql_exec(db, "BEGIN"))
		return -EIO;
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?", c->plural);
	if (sql_prepare(db, sql, &st)) {
		rc = -EIO;
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = step_write(st, &dup);
	if (!rc && !sqlite3_changes(db->sql))
		rc = -ENOENT;
	if (rc || kind != CB_DB_COSPACE)
		goto out;
	/* the space's access methods go with it */
	if (sql_prepare(db, "DELETE FROM accessMethods WHERE coSpace = ?", &st)) {
		rc = -EIO;
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = step_write(st, &dup);
out:
	if (kind == CB_DB_COSPACE) {
		if (!rc && sql_exec(db, "COMMIT"))
			rc = -EIO;
		if (rc)
			sql_exec(db, "ROLLBACK");
	}
	return rc;
}

/* "SELECT id, c1, ... FROM table " */
static void sql_select(char *sql, const struct cb_db_class *c)
{
	snprintf(sql, SQL_MAX, "SELECT id, ");
	sql_columns(sql, c, "");
	sql_cat(sql, " FROM %s ", c->plural);
}

int cb_db_obj_get(struct cb_db *db, enum cb_db_kind kind, const char *id, void *obj)
{
	const struct cb_db_class *c = cb_db_class(kind);
	char sql[SQL_MAX];
	sqlite3_stmt *st;
	int rc;

	if (!c)
		return -EINVAL;
	sql_select(sql, c);
	sql_cat(sql, "%s", "WHERE id = ?");
	if (sql_prepare(db, sql, &st))
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_fields(st, c, obj);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

/* "WHERE coSpace = ?4 AND (filter) ", either part as asked, or nothing. */
static void sql_filter(char *sql, enum cb_db_kind kind, bool filtered, bool in_parent)
{
	if (!filtered && !in_parent)
		return;
	sql_cat(sql, "%s", "WHERE ");
	if (in_parent)
		sql_cat(sql, "%s", filtered ? "coSpace = ?4 AND " : "coSpace = ?4 ");
	if (!filtered)
		return;
	sql_cat(sql, "%s", "(");
	for (int i = 0; filter_cols[kind][i]; i++) {
		sql_cat(sql, "%s", i ? " OR " : "");
		sql_cat(sql, "instr(lower(coalesce(%s, '')), lower(?1)) > 0", filter_cols[kind][i]);
	}
	sql_cat(sql, "%s", ") ");
}

/* sql, then its WHERE for filter (NULL: none) and parent (NULL: none), then tail; prepared
 * with ?1 and ?4 bound. */
static int prepare_filtered(struct cb_db *db, char *sql, enum cb_db_kind kind, const char *filter,
	const char *parent, const char *tail, sqlite3_stmt **st)
{
	sql_filter(sql, kind, filter != NULL, parent != NULL);
	sql_cat(sql, "%s", tail);
	if (sql_prepare(db, sql, st))
		return -EIO;
	if (filter)
		sqlite3_bind_text(*st, 1, filter, -1, SQLITE_STATIC);
	if (parent)
		sqlite3_bind_text(*st, 4, parent, -1, SQLITE_STATIC);
	return 0;
}

int cb_db_obj_list(struct cb_db *db, enum cb_db_kind kind, const char *filter, unsigned int offset,
	unsigned int limit, int (*fn)(void *ctx, const void *obj), void *ctx, unsigned int *total)
{
	return cb_db_obj_list_in(db, kind, NULL, filter, offset, limit, fn, ctx, total);
}

int cb_db_obj_list_in(struct cb_db *db, enum cb_db_kind kind, const char *parent,
	const char *filter, unsigned int offset, unsigned int limit,
	int (*fn)(void *ctx, const void *obj), void *ctx, unsigned int *total)
{
	const struct cb_db_class *c = cb_db_class(kind);
	bool filtered = filter && *filter;
	char sql[SQL_MAX];
	union cb_db_any obj;
	sqlite3_stmt *st;
	int rc;

	if (!c || (parent != NULL) != (kind == CB_DB_ACCESSMETHOD))
		return -EINVAL;
	if (total) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s ", c->plural);
		if (prepare_filtered(db, sql, kind, filtered ? filter : NULL, parent, "", &st))
			return -EIO;
		rc = sqlite3_step(st);
		*total = rc == SQLITE_ROW ? (unsigned int)sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW)
			return -EIO;
	}
	sql_select(sql, c);
	if (prepare_filtered(db, sql, kind, filtered ? filter : NULL, parent,
		    "ORDER BY rowid LIMIT ?2 OFFSET ?3", &st))
		return -EIO;
	sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
	sqlite3_bind_int64(st, 3, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_fields(st, c, &obj);
		if (fn && fn(ctx, &obj)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cb_db_meeting_find(struct cb_db *db, const char *id, const char *passcode, unsigned int by,
	struct cb_cospace *out, struct cb_accessmethod *am)
{
	/* every row names the same space (check_unique): the passcode picks the way in */
	static const char *const sql[4] = {
		[CB_DB_BY_CALL_ID] =
			"SELECT 0, id, passcode FROM coSpaces WHERE callId = ?1 "
			"UNION ALL SELECT 1, id, passcode FROM accessMethods WHERE callId = ?1",
		[CB_DB_BY_URI] =
			"SELECT 0, id, passcode FROM coSpaces WHERE uri = ?1 OR "
			"secondaryUri = ?1 UNION ALL SELECT 1, id, passcode FROM accessMethods "
			"WHERE uri = ?1",
		[CB_DB_BY_CALL_ID | CB_DB_BY_URI] =
			"SELECT 0, id, passcode FROM coSpaces "
			"WHERE callId = ?1 OR uri = ?1 OR secondaryUri = ?1 UNION ALL "
			"SELECT 1, id, passcode FROM accessMethods WHERE callId = ?1 OR uri = ?1",
	};
	char pick[CB_DB_ID_LEN] = "", open_pick[CB_DB_ID_LEN] = "", first[CB_DB_ID_LEN] = "";
	bool pick_am = false, open_am = false, first_am = false, any = false;
	size_t plen = passcode ? strlen(passcode) : 0;
	union cb_db_any way;
	sqlite3_stmt *st;
	int rc;

	if (am)
		am->id[0] = '\0';
	by &= CB_DB_BY_CALL_ID | CB_DB_BY_URI;
	if (!id || !*id || !by)
		return -ENOENT;
	if (sql_prepare(db, sql[by], &st))
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rid = (const char *)sqlite3_column_text(st, 1);
		const char *pc = (const char *)sqlite3_column_text(st, 2);
		bool is_am = sqlite3_column_int(st, 0) == 1;

		any = true;
		if (!rid)
			continue;
		if (!first[0]) {
			snprintf(first, sizeof(first), "%s", rid);
			first_am = is_am;
		}
		if (!pc || !*pc) {
			if (!open_pick[0]) {
				snprintf(open_pick, sizeof(open_pick), "%s", rid);
				open_am = is_am;
			}
		} else if (!pick[0] && plen && strlen(pc) == plen &&
			!CRYPTO_memcmp(pc, passcode, plen)) {
			snprintf(pick, sizeof(pick), "%s", rid);
			pick_am = is_am;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	if (!any || !first[0])
		return -ENOENT;
	/* nonMemberAccess false: "Controls whether non-members of the coSpace are able to have
	 * access to the coSpace" (CMS 2.0 API Reference p.31), and a guest of the web app is no
	 * member. It holds for the access methods too: with the restriction on, CMS's web app
	 * help says, "the space owner and space members cannot enter the space meeting using the
	 * join links ... and dial/join information" (which lists the access methods): no way in
	 * by meeting ID is left. Asked before the passcode, so such a space is no passcode
	 * oracle. */
	if (first_am) {
		if ((rc = cb_db_obj_get(db, CB_DB_ACCESSMETHOD, first, &way)))
			return rc;
		snprintf(first, sizeof(first), "%s", way.am.cospace);
	}
	if ((rc = cb_db_obj_get(db, CB_DB_COSPACE, first, out)))
		return rc;
	if (!out->non_member_access)
		return -EPERM;
	if (!pick[0]) { /* no passcode matched: a way in without one, if any */
		if (!open_pick[0])
			return -EACCES;
		memcpy(pick, open_pick, sizeof(pick));
		pick_am = open_am;
	}
	if (!pick_am)
		return 0; /* every row names the one space, *out */
	if ((rc = cb_db_obj_get(db, CB_DB_ACCESSMETHOD, pick, &way)))
		return rc;
	if (am)
		*am = way.am;
	return 0;
}

int cb_db_wbprofile_for(struct cb_db *db, const char *wb_id, struct cb_wbprofile *out)
{
	union cb_db_any wb, wp;
	struct cb_general g;
	int rc;

	cb_db_obj_init(CB_DB_WBPROFILE, out);
	rc = wb_id ? cb_db_obj_get(db, CB_DB_WEBBRIDGE, wb_id, &wb) : -ENOENT;
	if (rc == -EIO)
		return rc;
	if (!rc && wb.wb.web_bridge_profile[0]) {
		rc = cb_db_obj_get(db, CB_DB_WBPROFILE, wb.wb.web_bridge_profile, &wp);
		if (rc != -ENOENT) {
			if (!rc)
				*out = wp.wp;
			return rc;
		}
	}
	if ((rc = cb_db_general_get(db, &g)))
		return rc;
	if (!g.web_bridge_profile[0])
		return 0;
	rc = cb_db_obj_get(db, CB_DB_WBPROFILE, g.web_bridge_profile, &wp);
	if (!rc)
		*out = wp.wp;
	return rc == -ENOENT ? 0 : rc;
}

struct fill {
	void *out;
	size_t size;
	unsigned int max, n;
};

static int fill_one(void *ctx, const void *obj)
{
	struct fill *f = ctx;

	if (f->n < f->max)
		memcpy((char *)f->out + (size_t)f->n * f->size, obj, f->size);
	f->n++;
	return 0;
}

static int fill_array(struct cb_db *db, enum cb_db_kind kind, void *out, unsigned int max)
{
	struct fill f = { out, classes[kind].size, max, 0 };
	int rc = cb_db_obj_list(db, kind, NULL, 0, 0, fill_one, &f, NULL);

	return rc ? rc : (int)f.n;
}

int cb_db_webbridges(struct cb_db *db, struct cb_webbridge *out, unsigned int max)
{
	return fill_array(db, CB_DB_WEBBRIDGE, out, max);
}

int cb_db_turnservers(struct cb_db *db, struct cb_turnserver *out, unsigned int max)
{
	return fill_array(db, CB_DB_TURNSERVER, out, max);
}

/* --- general settings --- */

static const struct {
	const char *key;
	size_t off, size;
	int (*check)(const char *v);
} general_keys[] = {
	{ "turnServerAddress", offsetof(struct cb_general, turn_server_address),
		sizeof(((struct cb_general *)0)->turn_server_address), cb_db_check_host },
	{ "turnClientAddress", offsetof(struct cb_general, turn_client_address),
		sizeof(((struct cb_general *)0)->turn_client_address), cb_db_check_host },
	{ "turnUsername", offsetof(struct cb_general, turn_username),
		sizeof(((struct cb_general *)0)->turn_username), NULL },
	{ "turnPassword", offsetof(struct cb_general, turn_password),
		sizeof(((struct cb_general *)0)->turn_password), NULL },
	{ "turnSharedSecret", offsetof(struct cb_general, turn_shared_secret),
		sizeof(((struct cb_general *)0)->turn_shared_secret), NULL },
	{ "webBridgeProfile", offsetof(struct cb_general, web_bridge_profile),
		sizeof(((struct cb_general *)0)->web_bridge_profile), check_guid },
};

int cb_db_general_get(struct cb_db *db, struct cb_general *out)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sql_prepare(db, "SELECT key, value FROM general", &st))
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);

		for (unsigned int i = 0; k && v && i < N(general_keys); i++) {
			char *dst = (char *)out + general_keys[i].off;

			if (!strcmp(k, general_keys[i].key))
				snprintf(dst, general_keys[i].size, "%s", v);
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int cb_db_general_set(struct cb_db *db, const struct cb_general *g, const char **bad)
{
	const char *dummy;
	int rc = 0;

	if (!bad)
		bad = &dummy;
	for (unsigned int i = 0; i < N(general_keys); i++) {
		const char *v = (const char *)g + general_keys[i].off;
		size_t len = strnlen(v, general_keys[i].size);

		*bad = general_keys[i].key;
		if (len >= general_keys[i].size)
			return -E2BIG;
		if (len &&
			(cb_db_check_text(v) ||
				(general_keys[i].check && general_keys[i].check(v))))
			return -EINVAL;
	}
	*bad = NULL;
	if (sql_exec(db, "BEGIN"))
		return -EIO;
	for (unsigned int i = 0; i < N(general_keys) && !rc; i++) {
		const char *v = (const char *)g + general_keys[i].off;
		sqlite3_stmt *st;

		if (sql_prepare(db,
			    *v ? "INSERT OR REPLACE INTO general (key, value) VALUES (?, ?)" :
				 "DELETE FROM general WHERE key = ?",
			    &st)) {
			rc = -EIO;
			break;
		}
		sqlite3_bind_text(st, 1, general_keys[i].key, -1, SQLITE_STATIC);
		if (*v)
			sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = -EIO;
		sqlite3_finalize(st);
	}
	if (!rc && sql_exec(db, "COMMIT"))
		rc = -EIO;
	if (rc)
		sql_exec(db, "ROLLBACK"); /* never leave the transaction open */
	return rc;
}
