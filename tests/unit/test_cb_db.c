/* The callbridge's store: a file that survives a reopen (schema version, WAL, its directory
 * made), the meeting-id lookup the callbridge joins guests with, the arrays it reads
 * webBridges and turnServers from, and the general settings. */
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
	CU_ASSERT_EQUAL(sqlite3_column_int(st, 0), 1);
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

/* A store made before turnServers had sharedSecret: opening adds the column, the stored
 * object stays, and the new field reads back once set. */
static void test_upgrade_columns(void)
{
	char dir[] = "/tmp/cb_db_XXXXXX", path[128], err[256];
	struct cb_turnserver ts;
	struct cb_db *db;
	sqlite3 *raw;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cb.db", dir);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &raw), SQLITE_OK);
	CU_ASSERT_EQUAL(
		sqlite3_exec(raw,
			"CREATE TABLE turnServers (id TEXT PRIMARY KEY, "
			"serverAddress TEXT, clientAddress TEXT, username TEXT, password TEXT, type TEXT, "
			"numRegistrations INTEGER, tcpPortNumberOverride INTEGER, callBridge TEXT, "
			"callBridgeGroup TEXT); INSERT INTO turnServers (id, serverAddress, type) VALUES "
			"('0f1e2d3c-4b5a-4968-8776-655443322110', 'turn.example', 'cms');",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(raw);
	CU_ASSERT_EQUAL_FATAL(cb_db_open(path, &db, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cb_db_turnservers(db, &ts, 1), 1);
	CU_ASSERT_STRING_EQUAL(ts.server_address, "turn.example");
	CU_ASSERT_STRING_EQUAL(ts.shared_secret, "");
	set(CB_DB_TURNSERVER, &ts, "sharedSecret", "s3cret");
	CU_ASSERT_EQUAL(cb_db_obj_update(db, CB_DB_TURNSERVER, &ts, NULL), 0);
	memset(&ts, 0, sizeof(ts));
	CU_ASSERT_EQUAL(cb_db_turnservers(db, &ts, 1), 1);
	CU_ASSERT_STRING_EQUAL(ts.shared_secret, "s3cret");
	cb_db_close(db);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(path), 0);
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
		{ "an older store gains new columns", test_upgrade_columns },
		{ "uuid and validators", test_uuid },
		{ NULL, NULL },
	};

	return unit_run("cb_db", tests);
}
