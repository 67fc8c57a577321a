/* Control-plane logging: one formatter for every component, a ring of recent lines for
 * `edgectl log`, and a mutex because several control threads log. */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "edge_log.h"

#define LOG_RING 512
#define LOG_LINE 512

static struct {
	pthread_mutex_t lock;
	enum log_target target;
	FILE *file;
	int level;
	char ring[LOG_RING][LOG_LINE];
	unsigned int head; /* next slot to write */
	unsigned int count;
	edge_log_remote_fn remote; /* remote syslog; called under the lock, must not block */
	void *remote_ctx;
} lg = { .lock = PTHREAD_MUTEX_INITIALIZER, .target = LOG_TARGET_STDERR, .level = LOG_INFO };

static const char *sev[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info",
	"debug" };

/* The guide's facilities: the callbridge ("host:server") logs to user, webbridge3's access log
 * ("wb3_frontend") to local7, everything else to local0. */
static int facility_of(const char *component, const char **name)
{
	if (!strcmp(component, "host:server")) {
		*name = "user";
		return LOG_USER;
	}
	if (!strcmp(component, "wb3_frontend")) {
		*name = "local7";
		return LOG_LOCAL7;
	}
	*name = "local0";
	return LOG_LOCAL0;
}

int edge_log_open(enum log_target target, const char *file, int level)
{
	FILE *f = NULL;

	if (target == LOG_TARGET_FILE) {
		f = fopen(file, "a");
		if (!f)
			return -1;
		setvbuf(f, NULL, _IOLBF, 0);
	}
	if (target == LOG_TARGET_SYSLOG)
		openlog("edge", LOG_NDELAY | LOG_PID, LOG_LOCAL0);
	pthread_mutex_lock(&lg.lock);
	if (lg.file)
		fclose(lg.file);
	lg.file = f;
	lg.target = target;
	lg.level = level;
	pthread_mutex_unlock(&lg.lock);
	return 0;
}

void edge_log_close(void)
{
	pthread_mutex_lock(&lg.lock);
	if (lg.file)
		fclose(lg.file);
	lg.file = NULL;
	if (lg.target == LOG_TARGET_SYSLOG)
		closelog();
	lg.target = LOG_TARGET_STDERR;
	pthread_mutex_unlock(&lg.lock);
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), or 0 if it is not one: no
 * overlong form, no surrogate, nothing past U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0; /* ASCII is handled by the caller; 0x80..0xc1 and 0xf5.. never lead */
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		(len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

size_t edge_log_sanitize(char *dst, size_t dstlen, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strlen(src), o = 0;

	if (!dstlen)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t u = 1;

		if (s[i] >= 0x80) {
			u = utf8_len(s + i, n - i);
			/* U+0080..U+009F are the C1 controls (CSI among them): escaped like C0 */
			if (u == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0)
				u = 0;
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			u = 0;
		}
		if (u) {
			if (o + u >= dstlen)
				break;
			memcpy(dst + o, s + i, u);
			o += u;
			i += u;
			continue;
		}
		if (o + 4 >= dstlen)
			break;
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[s[i] >> 4];
		dst[o++] = hex[s[i] & 15];
		i++;
	}
	dst[o] = '\0';
	return o;
}

void edge_log(int level, const char *component, const char *fmt, ...)
{
	char raw[LOG_LINE - 96], msg[LOG_LINE - 96], stamp[32];
	const char *fac;
	int facility;
	struct timeval tv;
	struct tm tm;
	va_list ap;
	char *line;

	if (level > lg.level && level > LOG_INFO)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* what a stranger put in a request reaches the file, syslog and `edgectl log` escaped */
	edge_log_sanitize(msg, sizeof(msg), raw);
	facility = facility_of(component, &fac);
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);

	pthread_mutex_lock(&lg.lock);
	line = lg.ring[lg.head];
	/* a line longer than a ring slot is cut there, on purpose */
	int n = snprintf(line, LOG_LINE, "%s.%03ld %s.%s edge %s: %s", stamp,
		(long)tv.tv_usec / 1000, fac, sev[level & 7], component, msg);
	(void)n;
	lg.head = (lg.head + 1) % LOG_RING;
	if (lg.count < LOG_RING)
		lg.count++;
	if (level <= lg.level) {
		if (lg.target == LOG_TARGET_SYSLOG)
			syslog(facility | level, "%s: %s", component, msg);
		else
			fprintf(lg.file ? lg.file : stderr, "%s\n", line);
		/* under the lock so that once edge_log_set_remote() returns, the old sink is
		 * never called again and its owner may free it */
		if (lg.remote)
			lg.remote(lg.remote_ctx, facility, level, &tv, component, msg);
	}
	pthread_mutex_unlock(&lg.lock);
}

void edge_log_set_remote(edge_log_remote_fn fn, void *ctx)
{
	pthread_mutex_lock(&lg.lock);
	lg.remote = fn;
	lg.remote_ctx = ctx;
	pthread_mutex_unlock(&lg.lock);
}

void edge_log_dump(FILE *out, int n)
{
	pthread_mutex_lock(&lg.lock);
	if (n <= 0 || (unsigned int)n > lg.count)
		n = lg.count;
	for (unsigned int i = lg.head + LOG_RING - n; i < lg.head + LOG_RING; i++)
		fprintf(out, "%s\n", lg.ring[i % LOG_RING]);
	pthread_mutex_unlock(&lg.lock);
}
