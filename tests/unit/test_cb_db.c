/* The callbridge's store: a file that survives a reopen (schema version, WAL, its directory
 * made), the meeting-id lookup the callbridge joins guests with, the arrays it reads
 * webBridges and turnServers from, the general settings, and the schema's migrations: the
 * version 1 fixture (fixtures/db/v1.sql) migrated with every row kept, a failed migration
 * leaving the file byte for byte, and corrupt, truncated, newer or foreign files refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cb_db.h"
#include "unit.h"

static void set(enum cb_db_kind kind, void *obj, const char *name, const char *value)
{
	const struct cb_db_field *f = cb_db_field(kind, name);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(cb_db_field_set(f, obj, value), 0);
}

static void test_file_reopen(void)
{
	char dir[] = "/tmp/cb_db_XXXXXX", path[128], side[160], err[256];
	struct cb_cospace cs, got;
	struct cb_general g = { 0 };
	struct cb_db *db;
	struct stat sb;
	sqlite3 *raw;
	sqlite3_stmt *st;
	mode_t mask;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/dir/cb.db", dir);
	mask = umask(022); /* the usual one: files 0644 unless the store sees to it */
	CU_ASSERT_EQUAL_FATAL(cb_db_open(path, &db, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(umask(022), 022); /* untouched: other threads make files too */
	CU_ASSERT_EQUAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	cb_db_obj_init(CB_DB_COSPACE, &cs);
	CU_ASSERT(cs.non_member_access);
	set(CB_DB_COSPACE, &cs, "name", "9999");
	set(CB_DB_COSPACE, &cs, "uri", "9999");
	set(CB_DB_COSPACE, &cs, "callId", "9999");
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_COSPACE, &cs, NULL), 0);
	snprintf(g.turn_server_address, sizeof(g.turn_server_address), "192.0.2.2");
	CU_ASSERT_EQUAL(cb_db_general_set(db, &g, NULL), 0);
	/* after writes, the -wal and -shm (TURN passwords in them) are 0600 too */
	snprintf(side, sizeof(side), "%s-wal", path);
	CU_ASSERT_EQUAL(stat(side, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	snprintf(side, sizeof(side), "%s-shm", path);
	CU_ASSERT_EQUAL(stat(side, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	cb_db_close(db);

	/* a store an older build left 0644, its -wal too, is made 0600 on open */
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &raw), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(raw, "CREATE TABLE scratch (x)", NULL, NULL, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL(chmod(path, 0644), 0);
	snprintf(side, sizeof(side), "%s-wal", path);
	CU_ASSERT_EQUAL(chmod(side, 0644), 0);
	CU_ASSERT_EQUAL_FATAL(cb_db_open(path, &db, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(stat(side, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	cb_db_close(db);
	sqlite3_close(raw);
	umask(mask);

	CU_ASSERT_EQUAL_FATAL(cb_db_open(path, &db, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cb_db_cospace_get(db, cs.id, &got), 0);
	CU_ASSERT_EQUAL(memcmp(&cs, &got, sizeof(cs)), 0);
	CU_ASSERT_EQUAL(strlen(got.secret), CB_DB_SECRET_LEN);
	memset(&g, 0, sizeof(g));
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_server_address, "192.0.2.2");
	cb_db_close(db);

	/* schema version and WAL as another reader sees them; a newer schema is refused */
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &raw), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
	CU_ASSERT_EQUAL(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	CU_ASSERT_EQUAL(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
	CU_ASSERT_STRING_EQUAL((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	CU_ASSERT_EQUAL(sqlite3_exec(raw, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	CU_ASSERT_EQUAL(cb_db_open(path, &db, err, sizeof(err)), -EPROTO);
	CU_ASSERT_PTR_NULL(db);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "newer"));

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(path), 0);
	CU_ASSERT_EQUAL(cb_db_open("/proc/nope/cb.db", &db, err, sizeof(err)) < 0, 1);
	CU_ASSERT(err[0] != '\0');
}

#define ALL (CB_DB_BY_CALL_ID | CB_DB_BY_URI)

/* The space a guest reaches with meeting ID id and no passcode. */
static int space_of(struct cb_db *db, const char *id, struct cb_cospace *out)
{
	return cb_db_meeting_find(db, id, NULL, ALL, out, NULL);
}

/* Adding (or, with update, changing) obj is refused as a duplicate of parameter want. */
static void clash(struct cb_db *db, enum cb_db_kind kind, void *obj, bool update, const char *want)
{
	const char *dup = NULL;

	CU_ASSERT_EQUAL(update ? cb_db_obj_update(db, kind, obj, &dup) :
				 cb_db_obj_add(db, kind, obj, &dup),
		-EEXIST);
	CU_ASSERT_STRING_EQUAL(dup ? dup : "", want);
}

static void test_meeting_id(void)
{
	struct cb_cospace a, b, c, got;
	struct cb_db *db;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(cb_db_open(":memory:", &db, err, sizeof(err)), 0);
	cb_db_obj_init(CB_DB_COSPACE, &a);
	set(CB_DB_COSPACE, &a, "uri", "1234");
	set(CB_DB_COSPACE, &a, "secondaryUri", "team.a");
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_COSPACE, &a, NULL), 0);
	CU_ASSERT_EQUAL(a.secret[0], '\0'); /* no callId, no secret */
	cb_db_obj_init(CB_DB_COSPACE, &b);
	set(CB_DB_COSPACE, &b, "callId", "5678");
	set(CB_DB_COSPACE, &b, "uri", "bee");
	set(CB_DB_COSPACE, &b, "secondaryUri", "8765");
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_COSPACE, &b, NULL), 0);
	CU_ASSERT_EQUAL(space_of(db, "1234", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.id, a.id);
	CU_ASSERT_EQUAL(space_of(db, "5678", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.id, b.id);
	CU_ASSERT_EQUAL(space_of(db, "team.a", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.id, a.id);
	CU_ASSERT_EQUAL(space_of(db, "bee", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.id, b.id);
	CU_ASSERT_EQUAL(space_of(db, "nobody", &got), -ENOENT);
	CU_ASSERT_EQUAL(space_of(db, "", &got), -ENOENT);

	/* a meeting ID names one space: no callId that is another's URI, nor the reverse */
	cb_db_obj_init(CB_DB_COSPACE, &c);
	set(CB_DB_COSPACE, &c, "callId", "1234"); /* a's uri */
	clash(db, CB_DB_COSPACE, &c, false, "callId");
	set(CB_DB_COSPACE, &c, "callId", "8765"); /* b's secondaryUri */
	clash(db, CB_DB_COSPACE, &c, false, "callId");
	cb_db_obj_init(CB_DB_COSPACE, &c);
	set(CB_DB_COSPACE, &c, "uri", "5678"); /* b's callId */
	clash(db, CB_DB_COSPACE, &c, false, "uri");
	cb_db_obj_init(CB_DB_COSPACE, &c);
	set(CB_DB_COSPACE, &c, "secondaryUri", "5678");
	clash(db, CB_DB_COSPACE, &c, false, "secondaryUri");
	/* the same on an update, and a space's own callId may equal its own URI */
	set(CB_DB_COSPACE, &b, "callId", "1234");
	clash(db, CB_DB_COSPACE, &b, true, "callId");
	set(CB_DB_COSPACE, &b, "callId", "5678");
	set(CB_DB_COSPACE, &b, "uri", "5678");
	CU_ASSERT_EQUAL(cb_db_obj_update(db, CB_DB_COSPACE, &b, NULL), 0);
	CU_ASSERT_EQUAL(space_of(db, "5678", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.id, b.id);
	CU_ASSERT_EQUAL(space_of(db, "1234", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.id, a.id);

	/* once a space is gone, its values are free for others */
	CU_ASSERT_EQUAL(cb_db_obj_delete(db, CB_DB_COSPACE, a.id), 0);
	cb_db_obj_init(CB_DB_COSPACE, &c);
	set(CB_DB_COSPACE, &c, "callId", "1234");
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_COSPACE, &c, NULL), 0);
	CU_ASSERT_EQUAL(space_of(db, "1234", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.id, c.id);
	CU_ASSERT_EQUAL(cb_db_obj_delete(db, CB_DB_COSPACE, a.id), -ENOENT);
	cb_db_close(db);
}

static int count_one(void *ctx, const void *obj)
{
	(void)obj;
	++*(int *)ctx;
	return 0;
}

/* An access method of space with callId, uri and passcode (NULL: unset). */
static void method(struct cb_accessmethod *am, const char *space, const char *call_id,
	const char *uri, const char *passcode)
{
	cb_db_obj_init(CB_DB_ACCESSMETHOD, am);
	snprintf(am->cospace, sizeof(am->cospace), "%s", space);
	if (call_id)
		set(CB_DB_ACCESSMETHOD, am, "callId", call_id);
	if (uri)
		set(CB_DB_ACCESSMETHOD, am, "uri", uri);
	if (passcode)
		set(CB_DB_ACCESSMETHOD, am, "passcode", passcode);
}

/* A space's access methods: the passcode picks the way in, and they go with the space. */
static void test_access_methods(void)
{
	struct cb_accessmethod host, open, stray, am;
	struct cb_cospace sp, other, got;
	unsigned int total = 0;
	struct cb_db *db;
	char err[256];
	int n = 0;

	CU_ASSERT_EQUAL_FATAL(cb_db_open(":memory:", &db, err, sizeof(err)), 0);
	cb_db_obj_init(CB_DB_COSPACE, &sp);
	set(CB_DB_COSPACE, &sp, "callId", "9999");
	set(CB_DB_COSPACE, &sp, "passcode", "1111");
	CU_ASSERT_EQUAL_FATAL(cb_db_obj_add(db, CB_DB_COSPACE, &sp, NULL), 0);
	cb_db_obj_init(CB_DB_COSPACE, &other);
	set(CB_DB_COSPACE, &other, "uri", "other");
	CU_ASSERT_EQUAL_FATAL(cb_db_obj_add(db, CB_DB_COSPACE, &other, NULL), 0);

	/* the hosts' way in: the same callId, another passcode */
	method(&host, sp.id, "9999", NULL, "2222");
	CU_ASSERT_STRING_EQUAL(host.scope, "public");
	set(CB_DB_ACCESSMETHOD, &host, "name", "hosts");
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_ACCESSMETHOD, &host, NULL), 0);
	CU_ASSERT_EQUAL(strlen(host.secret), CB_DB_SECRET_LEN);
	/* and one with no passcode at all, by URI */
	method(&open, sp.id, NULL, "lobby.9999", NULL);
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_ACCESSMETHOD, &open, NULL), 0);
	CU_ASSERT_EQUAL(open.secret[0], '\0');

	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "9999", "1111", ALL, &got, &am), 0);
	CU_ASSERT_STRING_EQUAL(got.id, sp.id);
	CU_ASSERT_EQUAL(am.id[0], '\0'); /* the space's own passcode */
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "9999", "2222", ALL, &got, &am), 0);
	CU_ASSERT_STRING_EQUAL(got.id, sp.id);
	CU_ASSERT_STRING_EQUAL(am.id, host.id);
	CU_ASSERT_STRING_EQUAL(am.name, "hosts");
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "9999", "3333", ALL, &got, &am), -EACCES);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "9999", "222", ALL, &got, &am), -EACCES);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "9999", "", ALL, &got, &am), -EACCES);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "9999", NULL, ALL, &got, &am), -EACCES);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "lobby.9999", NULL, ALL, &got, &am), 0);
	CU_ASSERT_STRING_EQUAL(got.id, sp.id);
	CU_ASSERT_STRING_EQUAL(am.id, open.id);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "lobby.9999", "42", ALL, &got, NULL), 0);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "8888", "2222", ALL, &got, &am), -ENOENT);
	/* as the web bridge's profile resolves meeting IDs: callIds, URIs, or neither */
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "9999", "2222", CB_DB_BY_CALL_ID, &got, &am), 0);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "9999", "2222", CB_DB_BY_URI, &got, &am), -ENOENT);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "lobby.9999", NULL, CB_DB_BY_URI, &got, &am), 0);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "lobby.9999", NULL, CB_DB_BY_CALL_ID, &got, &am),
		-ENOENT);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "9999", "1111", 0, &got, &am), -ENOENT);

	/* the clashes: another space's meeting ID, or this one's with the same passcode */
	method(&stray, other.id, "9999", NULL, "5555");
	clash(db, CB_DB_ACCESSMETHOD, &stray, false, "callId");
	method(&stray, sp.id, "9999", NULL, "2222");
	clash(db, CB_DB_ACCESSMETHOD, &stray, false, "passcode");
	method(&stray, sp.id, NULL, "other", NULL);
	clash(db, CB_DB_ACCESSMETHOD, &stray, false, "uri");
	set(CB_DB_COSPACE, &other, "secondaryUri", "lobby.9999");
	clash(db, CB_DB_COSPACE, &other, true, "secondaryUri");
	set(CB_DB_COSPACE, &sp, "passcode", "2222"); /* the hosts' */
	clash(db, CB_DB_COSPACE, &sp, true, "passcode");
	/* an access method needs a space that exists */
	method(&stray, "00000000-0000-4000-8000-000000000000", NULL, "nowhere", NULL);
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_ACCESSMETHOD, &stray, NULL), -ENOENT);

	/* listed per space */
	CU_ASSERT_EQUAL(cb_db_obj_list_in(db, CB_DB_ACCESSMETHOD, sp.id, NULL, 0, 0, count_one, &n,
				&total),
		0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(total, 2);
	CU_ASSERT_EQUAL(cb_db_obj_list_in(db, CB_DB_ACCESSMETHOD, sp.id, "HOST", 0, 0, NULL, NULL,
				&total),
		0);
	CU_ASSERT_EQUAL(total, 1);
	CU_ASSERT_EQUAL(cb_db_obj_list_in(db, CB_DB_ACCESSMETHOD, other.id, NULL, 0, 0, NULL, NULL,
				&total),
		0);
	CU_ASSERT_EQUAL(total, 0);
	CU_ASSERT_EQUAL(cb_db_obj_list(db, CB_DB_ACCESSMETHOD, NULL, 0, 0, NULL, NULL, &total),
		-EINVAL); /* whose? */

	/* deleting the space deletes its ways in, and frees their meeting IDs */
	CU_ASSERT_EQUAL(cb_db_obj_delete(db, CB_DB_COSPACE, sp.id), 0);
	CU_ASSERT_EQUAL(cb_db_obj_get(db, CB_DB_ACCESSMETHOD, host.id, &am), -ENOENT);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "lobby.9999", NULL, ALL, &got, &am), -ENOENT);
	set(CB_DB_COSPACE, &other, "secondaryUri", "lobby.9999");
	CU_ASSERT_EQUAL(cb_db_obj_update(db, CB_DB_COSPACE, &other, NULL), 0);
	cb_db_close(db);
}

/* nonMemberAccess false: no guest comes in, by the space's own meeting ID or by any of its
 * access methods, with or without the right passcode; true (the default) lets them in. */
static void test_non_member_access(void)
{
	struct cb_accessmethod host, open, am;
	struct cb_cospace sp, got;
	struct cb_db *db;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(cb_db_open(":memory:", &db, err, sizeof(err)), 0);
	cb_db_obj_init(CB_DB_COSPACE, &sp);
	CU_ASSERT(sp.non_member_access); /* the API's default */
	set(CB_DB_COSPACE, &sp, "name", "board");
	set(CB_DB_COSPACE, &sp, "callId", "7777");
	set(CB_DB_COSPACE, &sp, "nonMemberAccess", "false");
	CU_ASSERT_EQUAL_FATAL(cb_db_obj_add(db, CB_DB_COSPACE, &sp, NULL), 0);
	method(&host, sp.id, "7777", NULL, "2222");
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_ACCESSMETHOD, &host, NULL), 0);
	method(&open, sp.id, "7778", "lobby.board", NULL);
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_ACCESSMETHOD, &open, NULL), 0);

	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "7777", NULL, ALL, &got, &am), -EPERM);
	CU_ASSERT_STRING_EQUAL(got.id, sp.id); /* named for the log */
	CU_ASSERT_STRING_EQUAL(got.name, "board");
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "7777", "2222", ALL, &got, &am), -EPERM);
	CU_ASSERT_EQUAL(am.id[0], '\0');
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "7777", "9999", ALL, &got, &am), -EPERM);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "7778", NULL, ALL, &got, &am), -EPERM);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "lobby.board", NULL, ALL, &got, &am), -EPERM);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "7779", NULL, ALL, &got, &am), -ENOENT);

	/* opened: every way in works again, each picked by its passcode */
	set(CB_DB_COSPACE, &sp, "nonMemberAccess", "true");
	CU_ASSERT_EQUAL(cb_db_obj_update(db, CB_DB_COSPACE, &sp, NULL), 0);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "7777", NULL, ALL, &got, &am), 0);
	CU_ASSERT_STRING_EQUAL(got.id, sp.id);
	CU_ASSERT_EQUAL(am.id[0], '\0'); /* the space's own, open */
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "7777", "2222", ALL, &got, &am), 0);
	CU_ASSERT_STRING_EQUAL(got.id, sp.id);
	CU_ASSERT_STRING_EQUAL(am.id, host.id);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "7778", NULL, ALL, &got, &am), 0);
	CU_ASSERT_STRING_EQUAL(got.id, sp.id);
	CU_ASSERT_STRING_EQUAL(am.id, open.id);
	cb_db_close(db);
}

/* Which profile a web bridge's guests get: its own, else the system's, else the defaults. */
static void test_wbprofile_for(void)
{
	struct cb_wbprofile strict, open, got;
	struct cb_webbridge wb;
	struct cb_general g;
	struct cb_db *db;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(cb_db_open(":memory:", &db, err, sizeof(err)), 0);
	cb_db_obj_init(CB_DB_WEBBRIDGE, &wb);
	set(CB_DB_WEBBRIDGE, &wb, "url", "c2w://wb.example:6000");
	CU_ASSERT_EQUAL_FATAL(cb_db_obj_add(db, CB_DB_WEBBRIDGE, &wb, NULL), 0);
	CU_ASSERT_EQUAL(cb_db_wbprofile_for(db, wb.id, &got), 0);
	CU_ASSERT_EQUAL(got.id[0], '\0'); /* the defaults */
	CU_ASSERT(got.allow_unauthenticated_guests && got.resolve_cospace_call_ids);
	CU_ASSERT_STRING_EQUAL(got.resolve_cospace_uris, "off");

	cb_db_obj_init(CB_DB_WBPROFILE, &open);
	set(CB_DB_WBPROFILE, &open, "resolveCoSpaceUris", "domainSuggestionDisabled");
	CU_ASSERT_EQUAL_FATAL(cb_db_obj_add(db, CB_DB_WBPROFILE, &open, NULL), 0);
	cb_db_obj_init(CB_DB_WBPROFILE, &strict);
	set(CB_DB_WBPROFILE, &strict, "allowUnauthenticatedGuests", "false");
	CU_ASSERT_EQUAL_FATAL(cb_db_obj_add(db, CB_DB_WBPROFILE, &strict, NULL), 0);
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	snprintf(g.web_bridge_profile, sizeof(g.web_bridge_profile), "%s", open.id);
	CU_ASSERT_EQUAL(cb_db_general_set(db, &g, NULL), 0);
	CU_ASSERT_EQUAL(cb_db_wbprofile_for(db, wb.id, &got), 0); /* the system's */
	CU_ASSERT_STRING_EQUAL(got.id, open.id);
	CU_ASSERT_EQUAL(cb_db_wbprofile_for(db, NULL, &got), 0);
	CU_ASSERT_STRING_EQUAL(got.id, open.id);
	set(CB_DB_WEBBRIDGE, &wb, "webBridgeProfile", strict.id);
	CU_ASSERT_EQUAL(cb_db_obj_update(db, CB_DB_WEBBRIDGE, &wb, NULL), 0);
	CU_ASSERT_EQUAL(cb_db_wbprofile_for(db, wb.id, &got), 0); /* its own */
	CU_ASSERT_STRING_EQUAL(got.id, strict.id);
	CU_ASSERT(!got.allow_unauthenticated_guests);
	/* a profile deleted under them: as if none were named */
	CU_ASSERT_EQUAL(cb_db_obj_delete(db, CB_DB_WBPROFILE, strict.id), 0);
	CU_ASSERT_EQUAL(cb_db_wbprofile_for(db, wb.id, &got), 0);
	CU_ASSERT_STRING_EQUAL(got.id, open.id);
	CU_ASSERT_EQUAL(cb_db_obj_delete(db, CB_DB_WBPROFILE, open.id), 0);
	CU_ASSERT_EQUAL(cb_db_wbprofile_for(db, wb.id, &got), 0);
	CU_ASSERT_EQUAL(got.id[0], '\0');
	CU_ASSERT(got.allow_unauthenticated_guests);
	cb_db_close(db);
}

static void test_arrays_general(void)
{
	struct cb_webbridge wb, wbs[2];
	struct cb_turnserver ts;
	struct cb_general g = { 0 };
	const char *bad = NULL;
	struct cb_db *db;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(cb_db_open(":memory:", &db, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cb_db_webbridges(db, wbs, 2), 0);
	for (int i = 0; i < 3; i++) {
		char url[64];

		cb_db_obj_init(CB_DB_WEBBRIDGE, &wb);
		snprintf(url, sizeof(url), "c2w://wb%d.example:6000", i);
		set(CB_DB_WEBBRIDGE, &wb, "url", url);
		CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_WEBBRIDGE, &wb, NULL), 0);
	}
	CU_ASSERT_EQUAL(cb_db_webbridges(db, wbs, 2), 3);
	CU_ASSERT_STRING_EQUAL(wbs[0].url, "c2w://wb0.example:6000");
	CU_ASSERT_STRING_EQUAL(wbs[1].url, "c2w://wb1.example:6000");
	cb_db_obj_init(CB_DB_TURNSERVER, &ts);
	CU_ASSERT_STRING_EQUAL(ts.type, "standard");
	set(CB_DB_TURNSERVER, &ts, "numRegistrations", "5");
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_TURNSERVER, &ts, NULL), 0);
	CU_ASSERT_EQUAL(cb_db_turnservers(db, &ts, 1), 1);
	CU_ASSERT_EQUAL(ts.num_registrations, 5);
	CU_ASSERT_EQUAL(cb_db_obj_update(db, CB_DB_TURNSERVER, &wb, NULL), -ENOENT);

	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_username, "");
	snprintf(g.turn_client_address, sizeof(g.turn_client_address), "[2001:db8::1]");
	snprintf(g.turn_username, sizeof(g.turn_username), "user");
	CU_ASSERT_EQUAL(cb_db_general_set(db, &g, &bad), 0);
	snprintf(g.turn_server_address, sizeof(g.turn_server_address), "bad host");
	CU_ASSERT_EQUAL(cb_db_general_set(db, &g, &bad), -EINVAL);
	CU_ASSERT_STRING_EQUAL(bad, "turnServerAddress");
	memset(&g, 0, sizeof(g));
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_client_address, "[2001:db8::1]");
	CU_ASSERT_STRING_EQUAL(g.turn_server_address, "");
	g.turn_username[0] = '\0';
	CU_ASSERT_EQUAL(cb_db_general_set(db, &g, &bad), 0);
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_username, "");
	cb_db_close(db);
}

/* --- the schema version and its migrations --- */

/* A raw connection runs fixture sql (a file under tests/unit/fixtures/db) on path. */
static void load_fixture(const char *path, const char *name, const char *extra)
{
	char file[512], *sql, *msg = NULL;
	sqlite3 *raw;
	FILE *f;
	long n;

	snprintf(file, sizeof(file), "%s/%s", FIXTURE_DB_DIR, name);
	f = fopen(file, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL_FATAL(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	CU_ASSERT_FATAL(n > 0);
	rewind(f);
	sql = calloc(1, (size_t)n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sql);
	CU_ASSERT_EQUAL_FATAL(fread(sql, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &raw), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(raw, sql, NULL, NULL, &msg), SQLITE_OK);
	if (extra)
		CU_ASSERT_EQUAL(sqlite3_exec(raw, extra, NULL, NULL, &msg), SQLITE_OK);
	if (msg)
		fprintf(stderr, "fixture %s: %s\n", name, msg);
	sqlite3_free(msg);
	CU_ASSERT_EQUAL(sqlite3_close(raw), SQLITE_OK); /* checkpointed: all in path */
	free(sql);
}

/* One integer a raw connection reads from path (-1: it could not). */
static int raw_int(const char *path, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *raw;
	int v = -1;

	if (sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(raw);
		return -1;
	}
	if (sqlite3_prepare_v2(raw, sql, -1, &st, NULL) == SQLITE_OK &&
		sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(raw);
	return v;
}

/* Every table's columns (name, type, not null, default, key; in name order: a column a step
 * adds comes last) and indexes, as text. */
static void schema_of(const char *path, char *out, size_t len)
{
	static const char sql[] =
		"SELECT group_concat(t, ';') FROM (SELECT m.name || ':' || "
		"(SELECT group_concat(c.name || ' ' || c.type || ' ' || c.\"notnull\" || ' ' || "
		"ifnull(c.dflt_value, '-') || ' ' || c.pk, ',') FROM (SELECT * FROM "
		"pragma_table_info(m.name) ORDER BY name) c) || "
		"':' || ifnull((SELECT group_concat(i.\"unique\" || ' ' || (SELECT group_concat(x.name) "
		"FROM pragma_index_info(i.name) x), ',') FROM pragma_index_list(m.name) i), '') AS t "
		"FROM sqlite_schema m WHERE m.type = 'table' ORDER BY m.name)";
	sqlite3_stmt *st;
	sqlite3 *raw;

	out[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(raw, sql, -1, &st, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(raw);
}

/* The whole file, to compare byte for byte; *len gets its size. */
static char *slurp(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	FILE *f;

	if (stat(path, &sb))
		return NULL;
	buf = malloc((size_t)sb.st_size + 1);
	f = fopen(path, "rb");
	if (!buf || !f || fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
		free(buf);
		buf = NULL;
	}
	if (f)
		fclose(f);
	*len = (size_t)sb.st_size;
	return buf;
}

static void cleanup(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* The store version 1 made (tests/unit/fixtures/db/v1.sql, the schema of 283ed04 with rows
 * in every table) opens migrated: every row as it was, the version current, the schema the
 * same as a new store's, the old file kept beside it, and a note for the log. */
static void test_migrate_v1(void)
{
	char dir[] = "/tmp/cb_db_XXXXXX", path[128], copy[160], fresh[128], err[512];
	static char s_new[8192], s_old[8192];
	struct cb_webbridge wb[3];
	struct cb_turnserver ts;
	struct cb_cospace cs;
	struct cb_accessmethod am;
	struct cb_general g;
	struct cb_db *db;
	struct stat sb;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/callbridge.db", dir);
	snprintf(copy, sizeof(copy), "%s.pre-v1", path);
	load_fixture(path, "v1.sql", NULL);
	CU_ASSERT_EQUAL(raw_int(path, "PRAGMA user_version"), 1);
	CU_ASSERT_EQUAL(chmod(path, 0644), 0); /* as the sqlite3 shell leaves it */

	err[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(cb_db_open(path, &db, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(cb_db_notice(db), "from version 1 to 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(cb_db_notice(db), copy));

	/* the coSpaces, every column */
	CU_ASSERT_EQUAL_FATAL(cb_db_cospace_get(db, "11111111-1111-4111-8111-111111111111", &cs),
		0);
	CU_ASSERT_STRING_EQUAL(cs.name, "Board room");
	CU_ASSERT_STRING_EQUAL(cs.uri, "board");
	CU_ASSERT_STRING_EQUAL(cs.secondary_uri, "board.alt");
	CU_ASSERT_STRING_EQUAL(cs.call_id, "100100");
	CU_ASSERT_STRING_EQUAL(cs.passcode, "4242");
	CU_ASSERT_STRING_EQUAL(cs.secret, "AbCdEfGhIjKlMnOpQrSt_-");
	CU_ASSERT(cs.require_call_id);
	CU_ASSERT_STRING_EQUAL(cs.cdr_tag, "cdr-board");
	CU_ASSERT_STRING_EQUAL(cs.default_layout, "speakerOnly");
	CU_ASSERT(cs.non_member_access);
	CU_ASSERT_STRING_EQUAL(cs.owner_jid, "alice@lab.example");
	CU_ASSERT_STRING_EQUAL(cs.stream_url, "rtmp://stream.lab.example/board");
	CU_ASSERT_STRING_EQUAL(cs.call_leg_profile, "aaaaaaaa-0000-4000-8000-000000000001");
	CU_ASSERT_STRING_EQUAL(cs.call_profile, "aaaaaaaa-0000-4000-8000-000000000002");
	CU_ASSERT_STRING_EQUAL(cs.call_branding_profile, "aaaaaaaa-0000-4000-8000-000000000003");
	CU_ASSERT_STRING_EQUAL(cs.tenant, "aaaaaaaa-0000-4000-8000-000000000004");
	CU_ASSERT_EQUAL_FATAL(cb_db_cospace_get(db, "22222222-2222-4222-8222-222222222222", &cs),
		0);
	CU_ASSERT_STRING_EQUAL(cs.name, "Caf\xc3\xa9 \xce\xa9");
	CU_ASSERT_FALSE(cs.non_member_access);
	CU_ASSERT_FALSE(cs.require_call_id);
	CU_ASSERT_EQUAL_FATAL(cb_db_cospace_get(db, "33333333-3333-4333-8333-333333333333", &cs),
		0);
	CU_ASSERT_STRING_EQUAL(cs.name, "no meeting id");
	CU_ASSERT(cs.non_member_access); /* NULL: the default */
	/* a guest still finds the space by its meeting ID and passcode */
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "100100", "4242", ALL, &cs, &am), 0);
	CU_ASSERT_STRING_EQUAL(cs.id, "11111111-1111-4111-8111-111111111111");
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "100100", "1", ALL, &cs, &am), -EACCES);

	/* the webBridges */
	CU_ASSERT_EQUAL_FATAL(cb_db_webbridges(db, wb, 3), 2);
	CU_ASSERT_STRING_EQUAL(wb[0].id, "44444444-4444-4444-8444-444444444444");
	CU_ASSERT_STRING_EQUAL(wb[0].url, "c2w://wb1.lab.example:9999");
	CU_ASSERT_STRING_EQUAL(wb[0].tenant, "bbbbbbbb-0000-4000-8000-000000000001");
	CU_ASSERT_STRING_EQUAL(wb[0].tenant_group, "bbbbbbbb-0000-4000-8000-000000000002");
	CU_ASSERT_STRING_EQUAL(wb[0].call_bridge, "bbbbbbbb-0000-4000-8000-000000000003");
	CU_ASSERT_STRING_EQUAL(wb[0].call_bridge_group, "bbbbbbbb-0000-4000-8000-000000000004");
	CU_ASSERT_STRING_EQUAL(wb[0].web_bridge_profile, "bbbbbbbb-0000-4000-8000-000000000005");
	CU_ASSERT_STRING_EQUAL(wb[1].url, "https://[2001:db8::5]:8443");

	/* the turnServer, and its new column empty until set */
	CU_ASSERT_EQUAL_FATAL(cb_db_turnservers(db, &ts, 1), 1);
	CU_ASSERT_STRING_EQUAL(ts.server_address, "turn.lab.example");
	CU_ASSERT_STRING_EQUAL(ts.client_address, "198.18.20.1");
	CU_ASSERT_STRING_EQUAL(ts.username, "cbuser");
	CU_ASSERT_STRING_EQUAL(ts.password, "cb-pass");
	CU_ASSERT_STRING_EQUAL(ts.type, "cms");
	CU_ASSERT_EQUAL(ts.num_registrations, 5);
	CU_ASSERT_EQUAL(ts.tcp_port_number_override, 443);
	CU_ASSERT_STRING_EQUAL(ts.call_bridge, "cccccccc-0000-4000-8000-000000000001");
	CU_ASSERT_STRING_EQUAL(ts.call_bridge_group, "cccccccc-0000-4000-8000-000000000002");
	CU_ASSERT_STRING_EQUAL(ts.shared_secret, "");
	set(CB_DB_TURNSERVER, &ts, "sharedSecret", "s3cret");
	CU_ASSERT_EQUAL(cb_db_obj_update(db, CB_DB_TURNSERVER, &ts, NULL), 0);
	memset(&ts, 0, sizeof(ts));
	CU_ASSERT_EQUAL(cb_db_turnservers(db, &ts, 1), 1);
	CU_ASSERT_STRING_EQUAL(ts.shared_secret, "s3cret");

	/* the general TURN settings */
	memset(&g, 0, sizeof(g));
	CU_ASSERT_EQUAL(cb_db_general_get(db, &g), 0);
	CU_ASSERT_STRING_EQUAL(g.turn_server_address, "198.18.20.1");
	CU_ASSERT_STRING_EQUAL(g.turn_client_address, "turn.lab.example");
	CU_ASSERT_STRING_EQUAL(g.turn_username, "gen-user");
	CU_ASSERT_STRING_EQUAL(g.turn_password, "gen-pass");

	/* the tables version 2 added work */
	cb_db_obj_init(CB_DB_ACCESSMETHOD, &am);
	snprintf(am.cospace, sizeof(am.cospace), "11111111-1111-4111-8111-111111111111");
	set(CB_DB_ACCESSMETHOD, &am, "callId", "300300");
	CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_ACCESSMETHOD, &am, NULL), 0);
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "300300", NULL, ALL, &cs, &am), 0);
	CU_ASSERT_STRING_EQUAL(cs.id, "11111111-1111-4111-8111-111111111111");
	cb_db_close(db);

	CU_ASSERT_EQUAL(raw_int(path, "PRAGMA user_version"), 2);
	CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM coSpaces"), 3);
	CU_ASSERT_EQUAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	/* the copy: version 1, every row, 0600 (TURN passwords) */
	CU_ASSERT_EQUAL(stat(copy, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(raw_int(copy, "PRAGMA user_version"), 1);
	CU_ASSERT_EQUAL(raw_int(copy, "SELECT count(*) FROM coSpaces"), 3);
	CU_ASSERT_EQUAL(raw_int(copy, "SELECT count(*) FROM general"), 4);
	CU_ASSERT_EQUAL(raw_int(copy,
				"SELECT count(*) FROM pragma_table_info('turnServers') "
				"WHERE name = 'sharedSecret'"),
		0);

	/* migrated, it has the schema a new store has: a field added without a step fails here */
	snprintf(fresh, sizeof(fresh), "%s/fresh.db", dir);
	CU_ASSERT_EQUAL_FATAL(cb_db_open(fresh, &db, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cb_db_notice(db), "");
	cb_db_close(db);
	schema_of(fresh, s_new, sizeof(s_new));
	schema_of(path, s_old, sizeof(s_old));
	CU_ASSERT_STRING_EQUAL(s_old, s_new);
	CU_ASSERT_PTR_NOT_NULL(strstr(s_new, "accessMethods:"));

	/* opened again: nothing to migrate, nothing to say */
	CU_ASSERT_EQUAL_FATAL(cb_db_open(path, &db, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cb_db_notice(db), "");
	cb_db_close(db);
	cleanup(dir);
}

/* A version 1 store a later build of version 1 (2f3e74f) left: it had added the tables and
 * the column of version 2 already, with rows in them. The step keeps them. */
static void test_migrate_v1_late(void)
{
	char dir[] = "/tmp/cb_db_XXXXXX", path[128], err[512];
	struct cb_turnserver ts;
	struct cb_accessmethod am;
	struct cb_cospace cs;
	struct cb_db *db;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cb.db", dir);
	load_fixture(path, "v1.sql",
		"CREATE TABLE accessMethods (id TEXT PRIMARY KEY, coSpace TEXT, uri TEXT, "
		"callId TEXT, passcode TEXT, name TEXT, secret TEXT, scope TEXT, "
		"callLegProfile TEXT); "
		"INSERT INTO accessMethods (id, coSpace, callId, passcode, scope) VALUES "
		"('77777777-7777-4777-8777-777777777777', '11111111-1111-4111-8111-111111111111', "
		"'400400', '9', 'private'); "
		"ALTER TABLE turnServers ADD COLUMN sharedSecret TEXT; "
		"UPDATE turnServers SET sharedSecret = 'kept';");
	CU_ASSERT_EQUAL_FATAL(cb_db_open(path, &db, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cb_db_turnservers(db, &ts, 1), 1);
	CU_ASSERT_STRING_EQUAL(ts.shared_secret, "kept");
	CU_ASSERT_EQUAL(cb_db_meeting_find(db, "400400", "9", ALL, &cs, &am), 0);
	CU_ASSERT_STRING_EQUAL(am.id, "77777777-7777-4777-8777-777777777777");
	CU_ASSERT_STRING_EQUAL(am.scope, "private");
	cb_db_close(db);
	CU_ASSERT_EQUAL(raw_int(path, "PRAGMA user_version"), 2);
	cleanup(dir);
}

/* A migration that fails part way rolls back: the file byte for byte as it was, a message
 * naming the file, the versions, the step and SQLite's error; opening again fails alike. */
static void failed_migration(const char *extra, int want, const char *const *says)
{
	char dir[] = "/tmp/cb_db_XXXXXX", path[128], err[512];
	size_t n0, n1;
	char *before, *after;
	struct cb_db *db;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cb.db", dir);
	load_fixture(path, "v1.sql", extra);
	before = slurp(path, &n0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(before);
	for (int pass = 0; pass < 2; pass++) {
		err[0] = '\0';
		db = (struct cb_db *)1;
		CU_ASSERT_EQUAL(cb_db_open(path, &db, err, sizeof(err)), want);
		CU_ASSERT_PTR_NULL(db);
		for (const char *const *s = says; *s; s++)
			if (!strstr(err, *s)) {
				fprintf(stderr, "\"%s\" lacks \"%s\"\n", err, *s);
				CU_FAIL("the message");
			}
		after = slurp(path, &n1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(after);
		CU_ASSERT_EQUAL(n0, n1);
		CU_ASSERT(n0 == n1 && !memcmp(before, after, n0));
		free(after);
	}
	CU_ASSERT_EQUAL(raw_int(path, "PRAGMA user_version"), 1);
	CU_ASSERT_EQUAL(raw_int(path,
				"SELECT count(*) FROM sqlite_schema WHERE name = "
				"'webBridgeProfiles'"),
		0);
	free(before);
	cleanup(dir);
}

static void test_migrate_fails(void)
{
	/* a step fails: turnServers made a view by hand, which takes no new column (the step
	 * has made two tables by then: they go too) */
	static const char *const step[] = { "/cb.db: migrating the schema from version 1 to 2",
		"failed at step 1 to 2", "view", "left as it was", NULL };
	/* the steps run, but a table lacks a column this build uses */
	static const char *const check[] = { "/cb.db: migrating the schema from version 1 to 2",
		"table webBridges has no column callBridgeGroup", NULL };

	failed_migration("ALTER TABLE turnServers RENAME TO turnServersOld; "
			 "CREATE VIEW turnServers AS SELECT * FROM turnServersOld;",
		-EIO, step);
	failed_migration("ALTER TABLE webBridges DROP COLUMN callBridgeGroup;", -EPROTO, check);
}

/* Not a database, a truncated one, a corrupt page, a newer version, tables without a
 * version: refused with a message naming the file, the file left as it was. */
static void test_refused(void)
{
	char dir[] = "/tmp/cb_db_XXXXXX", path[128], err[512], junk[4096];
	struct cb_cospace cs;
	struct cb_db *db;
	struct stat sb;
	size_t n0, n1;
	char *before, *after;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cb.db", dir);

	/* garbage */
	memset(junk, 'x', sizeof(junk));
	f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	CU_ASSERT_EQUAL(cb_db_open(path, &db, err, sizeof(err)), -EIO);
	CU_ASSERT_PTR_NULL(db);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a usable database: file is not a database"));
	after = slurp(path, &n1);
	CU_ASSERT(after && n1 == sizeof(junk) && !memcmp(after, junk, n1));
	free(after);
	unlink(path);

	/* a store with enough rows for many pages, cut short or with a page overwritten */
	CU_ASSERT_EQUAL_FATAL(cb_db_open(path, &db, err, sizeof(err)), 0);
	for (int i = 0; i < 300; i++) {
		char v[32];

		cb_db_obj_init(CB_DB_COSPACE, &cs);
		snprintf(v, sizeof(v), "%d", 500000 + i);
		set(CB_DB_COSPACE, &cs, "callId", v);
		memset(cs.name, 'n', 200);
		cs.name[200] = '\0';
		CU_ASSERT_EQUAL(cb_db_obj_add(db, CB_DB_COSPACE, &cs, NULL), 0);
	}
	cb_db_close(db);
	CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
	CU_ASSERT_FATAL(sb.st_size > 20 * 4096);
	before = slurp(path, &n0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(before);

	CU_ASSERT_EQUAL(truncate(path, sb.st_size / 2), 0);
	CU_ASSERT(cb_db_open(path, &db, err, sizeof(err)) < 0);
	CU_ASSERT_PTR_NULL(db);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "corrupt"));
	CU_ASSERT_EQUAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL((size_t)sb.st_size, n0 / 2);

	f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(before, 1, n0, f), n0);
	CU_ASSERT_EQUAL(fseek(f, (long)(n0 - 3 * 4096), SEEK_SET), 0);
	CU_ASSERT_EQUAL(fwrite(junk, 1, 2048, f), 2048);
	fclose(f);
	CU_ASSERT(cb_db_open(path, &db, err, sizeof(err)) < 0);
	CU_ASSERT_PTR_NULL(db);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "corrupt"));

	/* whole again, it opens */
	f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(before, 1, n0, f), n0);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(cb_db_open(path, &db, err, sizeof(err)), 0);
	cb_db_close(db);
	free(before);
	unlink(path);

	/* tables, and no version: not ours */
	load_fixture(path, "v1.sql", "PRAGMA user_version = 0;");
	CU_ASSERT_EQUAL(cb_db_open(path, &db, err, sizeof(err)), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a callbridge database"));
	CU_ASSERT_EQUAL(raw_int(path, "PRAGMA user_version"), 0);
	unlink(path);

	/* a version this build does not know, as a newer package would leave it */
	load_fixture(path, "v1.sql", "PRAGMA user_version = 3;");
	CU_ASSERT_EQUAL(cb_db_open(path, &db, err, sizeof(err)), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "schema version 3 is newer than this build's 2"));
	CU_ASSERT_EQUAL(raw_int(path, "PRAGMA user_version"), 3);
	cleanup(dir);
}

static void test_uuid(void)
{
	char a[CB_DB_ID_LEN], b[CB_DB_ID_LEN];

	CU_ASSERT_EQUAL(cb_db_uuid(a), 0);
	CU_ASSERT_EQUAL(cb_db_uuid(b), 0);
	CU_ASSERT_EQUAL(strlen(a), 36);
	CU_ASSERT_NOT_EQUAL(strcmp(a, b), 0);
	CU_ASSERT_EQUAL(a[14], '4');
	CU_ASSERT(strchr("89ab", a[19]) != NULL);
	CU_ASSERT_EQUAL(strspn(a, "0123456789abcdef-"), 36);
	CU_ASSERT_EQUAL(cb_db_check_host("edge.cms.demo"), 0);
	CU_ASSERT_EQUAL(cb_db_check_host("192.0.2.1"), 0);
	CU_ASSERT_EQUAL(cb_db_check_host("::1"), 0);
	CU_ASSERT_EQUAL(cb_db_check_host("a..b"), -EINVAL);
	CU_ASSERT_EQUAL(cb_db_check_host(""), -EINVAL);
	CU_ASSERT_EQUAL(cb_db_check_text("caf\xc3\xa9"), 0);
	CU_ASSERT_EQUAL(cb_db_check_text("\xc0\xaf"), -EINVAL);	    /* overlong '/' */
	CU_ASSERT_EQUAL(cb_db_check_text("\xed\xa0\x80"), -EINVAL); /* a surrogate */
	CU_ASSERT_EQUAL(cb_db_check_text("a\tb"), -EINVAL);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "file, reopen, schema", test_file_reopen },
		{ "meeting id lookup", test_meeting_id },
		{ "access methods", test_access_methods },
		{ "nonMemberAccess false admits no guest", test_non_member_access },
		{ "web bridge profiles", test_wbprofile_for },
		{ "arrays and general settings", test_arrays_general },
		{ "the version 1 fixture migrates, every row kept", test_migrate_v1 },
		{ "a late version 1 store keeps its version 2 rows", test_migrate_v1_late },
		{ "a failed migration leaves the file as it was", test_migrate_fails },
		{ "garbage, truncated, corrupt, newer, unversioned: refused", test_refused },
		{ "uuid and validators", test_uuid },
		{ NULL, NULL },
	};

	return unit_run("cb_db", tests);
}
