/* libFuzzer target for the configuration file parser (cfg_load): on any file text it must
 * neither crash nor read out of bounds (ASan+UBSan watch), and when it accepts the text it
 * fills a configuration that cfg_save writes out and cfg_load reads back, and that reads back
 * to the same configuration: saved again, the same bytes. What edged writes it must be able to
 * read at its next start. The text is handed over in memory (a memfd, read through its
 * /proc/self/fd path); the saved files go to one directory under /tmp, made once and removed
 * at exit. Texts with libconfig's @include are skipped: they would read other files. Seed it
 * with tests/fuzz/corpus/config. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "edge_config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5's scanner drops the strings it was building when a syntax error cuts the
 * file short (strbuf_append's buffer, the token yylex made): its leaks, not ours. Whatever
 * cfg_load leaves of the settings themselves (no config_destroy) is still reported. */
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

const char *__lsan_default_options(void);

const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

static char dir[64] = "/tmp/fuzz_config.XXXXXX";
static char in_path[64], a_path[96], b_path[96];
static int memfd = -1;
static struct edge_cfg first, second;
static bool verbose; /* FUZZ_CONFIG_VERBOSE=1: say why each text is refused (seeds) */

static void cleanup(void)
{
	unlink(a_path);
	unlink(b_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(a_path, sizeof(a_path), "%s/a.conf", dir);
	snprintf(b_path, sizeof(b_path), "%s/b.conf", dir);
	atexit(cleanup);
	verbose = getenv("FUZZ_CONFIG_VERBOSE") != NULL;
	memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (memfd < 0)
		abort();
	snprintf(in_path, sizeof(in_path), "/proc/self/fd/%d", memfd);
	return 0;
}

/* The whole of @path into @buf (NUL-terminated); its length, or -1. */
static long slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	if (!feof(f)) /* larger than any configuration cfg_save can write */
		abort();
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

static char a_text[1 << 20], b_text[1 << 20];

static void forget_serials(struct edge_cfg *cfg)
{
	for (int i = 0; i < EDGE_MAX_IFACES; i++)
		for (int r = 0; r < FW_MAX_RULES; r++)
			cfg->ifs[i].fw.rules[r].serial = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	long na, nb;

	if (memmem(data, size, "@include", 8))
		return 0;
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	if (cfg_load(in_path, &first, err, sizeof(err)) < 0) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0]) /* refused: a message, terminated */
			abort();
		if (verbose)
			fprintf(stderr, "fuzz_config: refused: %s\n", err);
		return 0;
	}
	if (verbose)
		fprintf(stderr, "fuzz_config: accepted\n");
	/* accepted: what it saves reads back, and saves again to the same bytes */
	if (cfg_save(a_path, &first, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_config: cannot save: %s\n", err);
		abort();
	}
	if (cfg_load(a_path, &second, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_config: its own file does not load: %s\n", err);
		abort();
	}
	/* and it is the same configuration: nothing cfg_load took is lost on the way (cfg_load
	 * starts from cfg_defaults' zeroed struct and zeroes each string's tail); a firewall
	 * rule's serial is the process's bookkeeping (fw.h), new at each load */
	forget_serials(&first);
	forget_serials(&second);
	if (memcmp(&first, &second, sizeof(first))) {
		size_t off = 0;

		while (((const uint8_t *)&first)[off] == ((const uint8_t *)&second)[off])
			off++;
		fprintf(stderr,
			"fuzz_config: loaded again, the configuration differs at byte %zu\n", off);
		abort();
	}
	if (cfg_save(b_path, &second, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_config: cannot save again: %s\n", err);
		abort();
	}
	na = slurp(a_path, a_text, sizeof(a_text));
	nb = slurp(b_path, b_text, sizeof(b_text));
	if (na < 0 || nb < 0)
		abort();
	if (na != nb || memcmp(a_text, b_text, (size_t)na)) {
		fprintf(stderr,
			"fuzz_config: saved, loaded and saved again differs:\n--- first\n%s"
			"--- again\n%s",
			a_text, b_text);
		abort();
	}
	return 0;
}
