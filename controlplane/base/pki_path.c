/* Where a key or certificate file the operator names lives (pki.h): every TLS component
 * needs it, the CLI's pki commands too. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pki.h"

int pki_path(const char *cert_dir, const char *name, char *buf, size_t len)
{
	int n;

	if (!name || !*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (strchr(name, '/')) {
		n = snprintf(buf, len, "%s", name);
	} else {
		bool slash;

		if (!cert_dir || !*cert_dir)
			return -EINVAL;
		slash = cert_dir[strlen(cert_dir) - 1] == '/';
		n = snprintf(buf, len, "%s%s%s", cert_dir, slash ? "" : "/", name);
	}
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
