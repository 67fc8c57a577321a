/* Logging: what a stranger put in a request (a TURN username, an HTTP path) reaches the log
 * file, syslog and `edgectl log` with every control character and every byte that is not
 * UTF-8 escaped as \xNN, so reading the log cannot drive the operator's terminal. */
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edge_log.h"

static char out[512];

static const char *clean(const char *in)
{
	edge_log_sanitize(out, sizeof(out), in);
	return out;
}

static void test_controls_escaped(void)
{
	CU_ASSERT_STRING_EQUAL(clean("plain text, 100% ok"), "plain text, 100% ok");
	CU_ASSERT_STRING_EQUAL(clean("user \x1b[2J\x1b[H"), "user \\x1b[2J\\x1b[H");
	CU_ASSERT_STRING_EQUAL(clean("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
	CU_ASSERT_STRING_EQUAL(clean("a\tb\rc\nd"), "a\\x09b\\x0dc\\x0ad");
	CU_ASSERT_STRING_EQUAL(clean("del\x7f"), "del\\x7f");
	CU_ASSERT_STRING_EQUAL(clean("\x01\x1f"), "\\x01\\x1f");
	/* C1 controls, as UTF-8 (U+009B is CSI) and as raw bytes */
	CU_ASSERT_STRING_EQUAL(clean("x\xc2\x9b"
				     "2J"),
		"x\\xc2\\x9b2J");
	CU_ASSERT_STRING_EQUAL(clean("x\x9b"
				     "2J"),
		"x\\x9b2J");
}

static void test_utf8(void)
{
	/* valid UTF-8 is kept: a name may be written in any script */
	CU_ASSERT_STRING_EQUAL(clean("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0"),
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0");
	/* not UTF-8: stray continuation, bad lead, overlong, surrogate, past U+10FFFF, cut */
	CU_ASSERT_STRING_EQUAL(clean("\x80"), "\\x80");
	CU_ASSERT_STRING_EQUAL(clean("\xff\xfe"), "\\xff\\xfe");
	CU_ASSERT_STRING_EQUAL(clean("\xc0\xaf"), "\\xc0\\xaf");
	CU_ASSERT_STRING_EQUAL(clean("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	CU_ASSERT_STRING_EQUAL(clean("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	CU_ASSERT_STRING_EQUAL(clean("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	CU_ASSERT_STRING_EQUAL(clean("\xe2\x82"), "\\xe2\\x82");
	CU_ASSERT_STRING_EQUAL(clean("\xe2\x82"
				     "A"),
		"\\xe2\\x82A");
}

static void test_cut_to_fit(void)
{
	char small[8];

	/* an escape or a UTF-8 sequence is never cut in half */
	CU_ASSERT_EQUAL(edge_log_sanitize(small, sizeof(small), "abcd\x1b"), 4);
	CU_ASSERT_STRING_EQUAL(small, "abcd");
	CU_ASSERT_EQUAL(edge_log_sanitize(small, sizeof(small), "abc\x1b"), 7);
	CU_ASSERT_STRING_EQUAL(small, "abc\\x1b");
	CU_ASSERT_EQUAL(edge_log_sanitize(small, sizeof(small), "abcde\xe2\x82\xac"), 5);
	CU_ASSERT_STRING_EQUAL(small, "abcde");
	CU_ASSERT_EQUAL(edge_log_sanitize(small, 1, "abc"), 0);
	CU_ASSERT_STRING_EQUAL(small, "");
}

static int has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\n')
			return 1;
	return 0;
}

/* Through edge_log(): the ring `edgectl log` reads and the log file both hold the escaped
 * form, never the raw bytes. */
static void test_log_lines(void)
{
	char tmp[] = "/tmp/edge-log-XXXXXX", *text = NULL, file[2048];
	size_t len = 0, n;
	FILE *f, *m;
	int fd = mkstemp(tmp);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(edge_log_open(LOG_TARGET_FILE, tmp, LOG_INFO), 0);
	edge_log(LOG_WARNING, "turn", "401 for user '%s'", "\x1b[2J\x1b]0;pwn\x07\tx");
	edge_log_close();
	m = open_memstream(&text, &len);
	edge_log_dump(m, 1);
	fclose(m);
	CU_ASSERT_FALSE(has_ctl(text, len));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "user '\\x1b[2J\\x1b]0;pwn\\x07\\x09x'"));
	free(text);
	f = fopen(tmp, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(file, 1, sizeof(file) - 1, f);
	file[n] = '\0';
	fclose(f);
	CU_ASSERT_FALSE(has_ctl(file, n));
	CU_ASSERT_PTR_NOT_NULL(strstr(file, "edge turn: 401 for user '\\x1b[2J"));
	unlink(tmp);
}

static const struct unit_test tests[] = {
	{ "control characters, tabs and C1 are written \\xNN", test_controls_escaped },
	{ "valid UTF-8 is kept, anything else escaped", test_utf8 },
	{ "cut to fit, never inside an escape", test_cut_to_fit },
	{ "edge_log: the ring and the file hold the escaped line", test_log_lines },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("log", tests);
}
