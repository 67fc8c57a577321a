/* The one main() every CUnit suite shares: register a table of tests, run them verbosely,
 * exit non-zero on any failure. */
#ifndef EDGE_TEST_UNIT_H
#define EDGE_TEST_UNIT_H

#include <stdio.h>
#include <stdlib.h>

#include <CUnit/Basic.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

static inline int unit_run(const char *suite, const struct unit_test *tests)
{
	CU_pSuite s;
	int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite(suite, NULL, NULL);
	for (const struct unit_test *t = tests; t->name; t++)
		CU_add_test(s, t->name, t->fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

/* tests/unit/fixtures/<rel> (under $EDGE_SRCDIR, else the build's EDGE_SRCDIR) into @buf,
 * at most @cap - 1 bytes, NUL-terminated; a missing file fails the test. @buf. */
static inline char *unit_fixture(const char *rel, char *buf, size_t cap)
{
#ifdef EDGE_SRCDIR
	const char *dir = getenv("EDGE_SRCDIR") ? getenv("EDGE_SRCDIR") : EDGE_SRCDIR;
#else
	const char *dir = getenv("EDGE_SRCDIR") ? getenv("EDGE_SRCDIR") : ".";
#endif
	char path[512];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/unit/fixtures/%s", dir, rel);
	f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

#endif
