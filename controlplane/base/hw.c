/* `edgectl hardware`: hw.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "edge_config.h"
#include "hw.h"

/* @src into @dst of @cap bytes, cut to fit. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* @root/@rel's first line into @buf (newline cut); false when it cannot be read. */
static bool read_line(const char *root, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	if (!(f = fopen(path, "r")))
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static unsigned long read_ul(const char *root, const char *rel)
{
	char buf[32];

	return read_line(root, rel, buf, sizeof(buf)) ? strtoul(buf, NULL, 0) : 0;
}

/* The last component of the link @root/@rel points to, into @out ("" when none). */
static void link_base(const char *root, const char *rel, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *b;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s%s", root, rel);
	if ((n = readlink(path, target, sizeof(target) - 1)) <= 0)
		return;
	target[n] = '\0';
	b = strrchr(target, '/');
	copy_str(out, len, b ? b + 1 : target);
}

/* Kernel drivers of NICs DPDK drives (doc.dpdk.org/guides/nics), and their poll-mode drivers;
 * mlx4/mlx5 run beside the kernel driver (bifurcated), the others need the NIC bound to
 * vfio-pci. */
static const struct {
	const char *driver, *pmd;
	bool bifurcated;
} pmds[] = {
	{ "ixgbe", "net_ixgbe", false },
	{ "ixgbevf", "net_ixgbe_vf", false },
	{ "i40e", "net_i40e", false },
	{ "iavf", "net_iavf", false },
	{ "ice", "net_ice", false },
	{ "igb", "net_e1000_igb", false },
	{ "igc", "net_igc", false },
	{ "e1000e", "net_e1000_em", false },
	{ "e1000", "net_e1000_em", false },
	{ "mlx5_core", "mlx5_pci", true },
	{ "mlx4_core", "net_mlx4", true },
	{ "bnxt_en", "net_bnxt", false },
	{ "ena", "net_ena", false },
	{ "virtio-pci", "net_virtio", false },
	{ "vmxnet3", "net_vmxnet3", false },
	{ "qede", "net_qede", false },
	{ "enic", "net_enic", false },
	{ "ionic", "net_ionic", false },
};

/* Bound to vfio-pci or uio: the vendor says which family (the device id would say which
 * member; the family is what an operator needs to know). */
static const struct {
	uint16_t vendor;
	const char *pmd;
} vendors[] = {
	{ 0x8086, "Intel (net_ixgbe, net_i40e, net_ice, net_e1000_igb)" },
	{ 0x14e4, "Broadcom (net_bnxt)" },
	{ 0x1d0f, "Amazon (net_ena)" },
	{ 0x1af4, "virtio (net_virtio)" },
	{ 0x15ad, "VMware (net_vmxnet3)" },
	{ 0x1077, "QLogic (net_qede)" },
	{ 0x1137, "Cisco (net_enic)" },
	{ 0x1dd8, "AMD Pensando (net_ionic)" },
};

static bool user_space(const char *driver)
{
	return !strcmp(driver, "vfio-pci") || !strcmp(driver, "uio_pci_generic") ||
		!strcmp(driver, "igb_uio");
}

const char *hw_pmd_for(const char *driver, uint16_t vendor, bool *bifurcated)
{
	*bifurcated = false;
	if (user_space(driver)) {
		for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
			if (vendors[i].vendor == vendor)
				return vendors[i].pmd;
		return NULL;
	}
	for (size_t i = 0; i < sizeof(pmds) / sizeof(pmds[0]); i++)
		if (!strcmp(pmds[i].driver, driver)) {
			*bifurcated = pmds[i].bifurcated;
			return pmds[i].pmd;
		}
	return NULL;
}

static void probe_cpu(const char *root, struct hw_report *r)
{
	char path[PATH_MAX], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/cpuinfo", root);
	if ((f = fopen(path, "r"))) {
		while (fgets(line, sizeof(line), f)) {
			char *v = strchr(line, ':');

			if (!strncmp(line, "processor", 9))
				r->cpus++;
			else if (v && !r->cpu_model[0] && !strncmp(line, "model name", 10)) {
				v += 1 + (v[1] == ' ');
				v[strcspn(v, "\n")] = '\0';
				copy_str(r->cpu_model, sizeof(r->cpu_model), v);
			}
		}
		fclose(f);
	}
	read_line(root, "/sys/devices/system/cpu/isolated", r->isolated, sizeof(r->isolated));
}

static void probe_hugepages(const char *root, struct hw_report *r)
{
	char path[PATH_MAX], rel[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/kernel/mm/hugepages", root);
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d)) && r->n_hp < HW_MAX_HP) {
		unsigned long kb;

		if (sscanf(e->d_name, "hugepages-%lukB", &kb) != 1)
			continue;
		snprintf(rel, sizeof(rel), "/sys/kernel/mm/hugepages/%s/nr_hugepages", e->d_name);
		r->hp[r->n_hp].size_kb = kb;
		r->hp[r->n_hp].total = read_ul(root, rel);
		snprintf(rel, sizeof(rel), "/sys/kernel/mm/hugepages/%s/free_hugepages", e->d_name);
		r->hp[r->n_hp].free = read_ul(root, rel);
		r->n_hp++;
	}
	closedir(d);
	for (unsigned int i = 1; i < r->n_hp; i++) /* by size: readdir's order is the fs's */
		for (unsigned int j = i; j > 0 && r->hp[j - 1].size_kb > r->hp[j].size_kb; j--) {
			__typeof__(r->hp[0]) t = r->hp[j];

			r->hp[j] = r->hp[j - 1];
			r->hp[j - 1] = t;
		}
}

static void probe_iommu(const char *root, struct hw_report *r)
{
	char path[PATH_MAX], buf[8];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups", root);
	if ((d = opendir(path))) {
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				r->iommu = true;
		closedir(d);
	}
	r->vfio_noiommu = read_line(root, "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
				  buf, sizeof(buf)) &&
		(buf[0] == 'Y' || buf[0] == '1');
}

/* Ethernet controllers (PCI class 0x0200xx), by address. */
static void probe_nics(const char *root, struct hw_report *r)
{
	char path[PATH_MAX], rel[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", root);
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d)) && r->n_nics < HW_MAX_NICS) {
		struct hw_nic *n = &r->nics[r->n_nics];
		struct dirent *ne;
		DIR *nd;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(n->pci))
			continue;
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/class", e->d_name);
		if ((read_ul(root, rel) >> 8) != 0x0200)
			continue;
		memset(n, 0, sizeof(*n));
		copy_str(n->pci, sizeof(n->pci), e->d_name);
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/vendor", e->d_name);
		n->vendor = (uint16_t)read_ul(root, rel);
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/device", e->d_name);
		n->device = (uint16_t)read_ul(root, rel);
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/driver", e->d_name);
		link_base(root, rel, n->driver, sizeof(n->driver));
		/* its interface: under net/, or under virtio<N>/net/ for virtio */
		for (int v = -1; v < 4 && !n->ifname[0]; v++) {
			if (v < 0)
				snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/net", root,
					e->d_name);
			else
				snprintf(path, sizeof(path),
					"%s/sys/bus/pci/devices/%s/virtio%d/net", root, e->d_name,
					v);
			if (!(nd = opendir(path)))
				continue;
			while ((ne = readdir(nd)))
				if (ne->d_name[0] != '.' && !n->ifname[0])
					copy_str(n->ifname, sizeof(n->ifname), ne->d_name);
			closedir(nd);
		}
		if (n->ifname[0]) {
			snprintf(rel, sizeof(rel), "/sys/class/net/%s/operstate", n->ifname);
			read_line(root, rel, n->operstate, sizeof(n->operstate));
		}
		n->pmd = hw_pmd_for(n->driver, n->vendor, &n->bifurcated);
		r->n_nics++;
	}
	closedir(d);
	for (unsigned int i = 1; i < r->n_nics; i++) /* by address */
		for (unsigned int j = i; j > 0 && strcmp(r->nics[j - 1].pci, r->nics[j].pci) > 0;
			j--) {
			struct hw_nic t = r->nics[j];

			r->nics[j] = r->nics[j - 1];
			r->nics[j - 1] = t;
		}
}

int hw_probe(const char *root, struct hw_report *r)
{
	char path[PATH_MAX];

	if (!root || !strcmp(root, "/"))
		root = "";
	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/sys", root);
	if (access(path, R_OK) < 0)
		return -errno;
	probe_cpu(root, r);
	probe_hugepages(root, r);
	probe_iommu(root, r);
	probe_nics(root, r);
	return 0;
}

unsigned int hw_print(const struct hw_report *r, FILE *out)
{
	unsigned int lacks = 0, dpdk = 0;
	unsigned long reserved = 0;

	fprintf(out, "CPU                       : %s, %u CPUs\n",
		r->cpu_model[0] ? r->cpu_model : "unknown", r->cpus);
	fprintf(out, "Isolated CPUs             : %s\n", r->isolated[0] ? r->isolated : "none");
	if (!r->isolated[0] && r->cpus > 1) {
		lacks++;
		char cpus[24];

		snprintf(cpus, sizeof(cpus), r->cpus > 2 ? "1-%u" : "%u", r->cpus - 1);
		fprintf(out,
			"  fix: give the data plane's lcores to it alone: isolcpus=%s nohz_full=%s "
			"rcu_nocbs=%s on the kernel command line (GRUB_CMDLINE_LINUX in "
			"/etc/default/grub, then update-grub and a reboot)\n",
			cpus, cpus, cpus);
	}
	for (unsigned int i = 0; i < r->n_hp; i++) {
		fprintf(out, "Hugepages %-6s          : %lu reserved, %lu free\n",
			r->hp[i].size_kb >= 1048576	 ? "1 GB" :
				r->hp[i].size_kb == 2048 ? "2 MB" :
							   "other",
			r->hp[i].total, r->hp[i].free);
		reserved += r->hp[i].total;
	}
	if (!r->n_hp)
		fprintf(out, "Hugepages                 : not supported by this kernel\n");
	if (!reserved) {
		lacks++;
		fprintf(out,
			"  fix: reserve 2 MB pages: echo 'vm.nr_hugepages = 1024' > "
			"/etc/sysctl.d/80-edge-hugepages.conf && sysctl --system "
			"(without them DPDK runs --no-huge, slower)\n");
	}
	fprintf(out, "IOMMU                     : %s%s\n", r->iommu ? "on" : "off",
		r->vfio_noiommu ? " (vfio's unsafe no-IOMMU mode is on)" : "");
	if (!r->iommu) {
		lacks++;
		fprintf(out,
			"  fix: intel_iommu=on iommu=pt (Intel) or amd_iommu=on iommu=pt (AMD) on "
			"the kernel command line, and VT-d/AMD-Vi on in the firmware; vfio-pci "
			"needs it\n");
	}
	fprintf(out, "Ethernet NICs             : %u\n", r->n_nics);
	for (unsigned int i = 0; i < r->n_nics; i++) {
		const struct hw_nic *n = &r->nics[i];
		bool bound = user_space(n->driver);

		fprintf(out, "  %s %04x:%04x driver %s%s%s%s: %s\n", n->pci, n->vendor, n->device,
			n->driver[0] ? n->driver : "none", n->ifname[0] ? " (" : "", n->ifname,
			n->ifname[0] ? ")" : "",
			!n->pmd		      ? "no DPDK driver we know of" :
				bound	      ? "bound for DPDK" :
				n->bifurcated ? "DPDK beside the kernel driver" :
						"DPDK can take it once bound to vfio-pci");
		if (n->pmd)
			fprintf(out, "    PMD %s%s%s\n", n->pmd, n->operstate[0] ? ", link " : "",
				n->operstate);
		if (n->pmd && (bound || n->bifurcated))
			dpdk++;
		if (n->pmd && !bound && !n->bifurcated) {
			lacks++;
			fprintf(out,
				"  fix: dpdk-devbind.py --bind=vfio-pci %s (modprobe vfio-pci first; "
				"the port leaves the kernel%s%s: never the one you manage the box "
				"through)\n",
				n->pci, n->ifname[0] ? " with its interface " : "", n->ifname);
		}
	}
	if (!dpdk) {
		lacks++;
		fprintf(out,
			"  fix: no NIC the data plane can drive here: the lab's af_packet or "
			"memif ports (config/lab.conf) work without one\n");
	}
	fprintf(out, "Ready for the data plane  : %s\n",
		lacks ? "no (see the fixes above)" : "yes");
	return lacks;
}

#define HW_MAX_CPUS 1024

/* A CPU list as the kernel and DPDK's -l write it ("0,1", "0-3,6") into @set (@max CPUs; those
 * past it only counted); the highest CPU + 1, or -1 when @s is no such list. */
static int cpu_list(const char *s, bool *set, unsigned int max)
{
	unsigned long top = 0;

	memset(set, 0, max * sizeof(*set));
	if (!*s)
		return -1;
	while (*s) {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char)*s))
			return -1;
		a = b = strtoul(s, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -1;
			b = strtoul(end + 1, &end, 10);
		}
		if (b < a || b >= INT_MAX)
			return -1;
		for (unsigned long i = a; i <= b && i < max; i++)
			set[i] = true;
		if (b + 1 > top)
			top = b + 1;
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return (int)top;
}

/* The CPUs in @set from @from up, as a list; and the highest, @top - 1, when it is past @max. */
static void cpu_list_str(const bool *set, unsigned int from, unsigned int max, int top, char *out,
	size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned int i = from; i < max && n < len; i++) {
		unsigned int j = i;

		if (!set[i])
			continue;
		while (j + 1 < max && set[j + 1])
			j++;
		n += (size_t)snprintf(out + n, len - n, j > i ? "%s%u-%u" : "%s%u", n ? "," : "", i,
			j);
		i = j;
	}
	if (top > (int)max && n < len)
		snprintf(out + n, len - n, "%s%d", n ? "," : "", top - 1);
}

static void check_cores(const struct hw_report *r, const struct edge_cfg *cfg, FILE *out,
	unsigned int *lacks)
{
	static bool want[HW_MAX_CPUS], iso[HW_MAX_CPUS], left[HW_MAX_CPUS];
	int top = cpu_list(cfg->cores, want, HW_MAX_CPUS);
	char list[128], have[32];
	unsigned int first = 0;

	snprintf(have, sizeof(have), r->cpus > 1 ? "0-%u" : "0", r->cpus ? r->cpus - 1 : 0);
	if (top < 0) {
		(*lacks)++;
		fprintf(out, "lack cores \"%s\": no CPU list\n", cfg->cores);
		fprintf(out,
			"  fix: eal: { cores = \"%s\"; } (the first runs the control plane, "
			"the others are workers)\n",
			have);
		return;
	}
	if (top > (int)r->cpus) {
		(*lacks)++;
		memset(left, 0, sizeof(left));
		for (unsigned int i = r->cpus; i < HW_MAX_CPUS; i++)
			left[i] = want[i];
		cpu_list_str(left, 0, HW_MAX_CPUS, top, list, sizeof(list));
		fprintf(out, "lack cores \"%s\": CPU %s not on this box (it has %u: %s)\n",
			cfg->cores, list, r->cpus, have);
		fprintf(out,
			"  fix: eal: { cores = \"%s\"; }, or some of them (the first runs the "
			"control plane, the others are workers)\n",
			have);
		return;
	}
	fprintf(out, "ok   cores \"%s\": this box has %u CPUs\n", cfg->cores, r->cpus);
	while (first < HW_MAX_CPUS && !want[first])
		first++;
	/* the workers: every lcore but the first */
	if (cpu_list(r->isolated, iso, HW_MAX_CPUS) < 0) /* none, or not a list we read */
		memset(iso, 0, sizeof(iso));
	memset(left, 0, sizeof(left));
	for (unsigned int i = first + 1; i < HW_MAX_CPUS; i++)
		left[i] = want[i] && !iso[i];
	cpu_list_str(left, 0, HW_MAX_CPUS, 0, list, sizeof(list));
	if (list[0])
		fprintf(out,
			"note worker CPU %s not isolated: the kernel may run other work there "
			"(isolcpus=%s nohz_full=%s rcu_nocbs=%s on the kernel command line)\n",
			list, list, list, list);
}

static void check_memory(const struct hw_report *r, const struct edge_cfg *cfg, FILE *out,
	unsigned int *lacks)
{
	unsigned long free_kb = 0, need_kb = (unsigned long)cfg->memory_mb * 1024;

	for (unsigned int i = 0; i < r->n_hp; i++)
		free_kb += r->hp[i].free * r->hp[i].size_kb;
	if (!cfg->hugepages) {
		fprintf(out, "ok   memory: %d MB without hugepages (eal.hugepages = false)\n",
			cfg->memory_mb);
		if (free_kb >= need_kb)
			fprintf(out,
				"note %lu MB of hugepages free: eal.hugepages = true would use "
				"them (faster)\n",
				free_kb / 1024);
		return;
	}
	if (free_kb >= need_kb) {
		fprintf(out, "ok   hugepages: %lu MB free, eal.memory_mb asks %d MB\n",
			free_kb / 1024, cfg->memory_mb);
		return;
	}
	(*lacks)++;
	fprintf(out, "lack hugepages: %lu MB free, eal.memory_mb asks %d MB\n", free_kb / 1024,
		cfg->memory_mb);
	if (!r->n_hp) {
		fprintf(out, "  fix: this kernel has none: eal: { hugepages = false; } (slower)\n");
		return;
	}
	/* more of the smallest pages, on top of those reserved now */
	unsigned long size = r->hp[0].size_kb;
	unsigned long n = r->hp[0].total + (need_kb - free_kb + size - 1) / size;

	fprintf(out, "  fix: echo %lu > /sys/kernel/mm/hugepages/hugepages-%lukB/nr_hugepages", n,
		size);
	if (size == 2048)
		fprintf(out,
			" (to keep it: echo 'vm.nr_hugepages = %lu' > "
			"/etc/sysctl.d/80-edge-hugepages.conf)",
			n);
	fprintf(out, ", or eal: { hugepages = false; } (slower)\n");
}

/* The value of @key= among the comma-separated devargs of @spec, into @out ("" when none). */
static void devarg(const char *spec, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);

	out[0] = '\0';
	for (const char *p = strchr(spec, ','); p; p = strchr(p + 1, ','))
		if (!strncmp(p + 1, key, kl) && p[1 + kl] == '=') {
			size_t n = strcspn(p + 2 + kl, ",");

			snprintf(out, len, "%.*s", (int)n, p + 2 + kl);
			return;
		}
}

static const char *devbind_fix = "  fix: dpdk-devbind.py --bind=vfio-pci %s (modprobe vfio-pci "
				 "first; the port leaves the kernel%s%s: never the one you "
				 "manage the box through)\n";

/* A PCI port: its NIC, a PMD for it, bound where that PMD takes it. True when it is (or is to
 * be) on vfio-pci. */
static bool check_pci(const struct hw_report *r, const struct cfg_iface *ifc, FILE *out,
	unsigned int *lacks)
{
	char addr[32];
	size_t n = strcspn(ifc->port, ",");
	const struct hw_nic *nic = NULL;
	bool bif;

	int colons = 0;

	for (size_t k = 0; k < n; k++)
		colons += ifc->port[k] == ':';
	snprintf(addr, sizeof(addr), "%s%.*s", colons == 1 ? "0000:" : "", (int)(n < 20 ? n : 20),
		ifc->port);
	for (unsigned int i = 0; i < r->n_nics && !nic; i++)
		if (!strcasecmp(r->nics[i].pci, addr))
			nic = &r->nics[i];
	if (!nic) {
		(*lacks)++;
		fprintf(out, "lack port %s (%s): no Ethernet NIC at this PCI address\n", ifc->name,
			addr);
		fprintf(out, "  fix: lspci -D -d ::0200 lists this box's NICs (");
		for (unsigned int i = 0; i < r->n_nics; i++)
			fprintf(out, "%s%s", i ? ", " : "", r->nics[i].pci);
		fprintf(out, "%s); put one's address in interface %s's port\n",
			r->n_nics ? "" : "none here", ifc->name);
		return false;
	}
	if (user_space(nic->driver)) { /* DPDK's to drive: a vendor we do not know is no lack */
		fprintf(out, "ok   port %s (%s): bound to %s, PMD %s\n", ifc->name, addr,
			nic->driver, nic->pmd ? nic->pmd : "of DPDK's choosing");
		return !strcmp(nic->driver, "vfio-pci");
	}
	if (!nic->pmd && !nic->driver[0] && hw_pmd_for("vfio-pci", nic->vendor, &bif)) {
		(*lacks)++;
		fprintf(out, "lack port %s (%s): %04x:%04x has no driver bound\n", ifc->name, addr,
			nic->vendor, nic->device);
		fprintf(out, devbind_fix, addr, "", "");
		return true;
	}
	if (!nic->pmd) {
		(*lacks)++;
		fprintf(out, "lack port %s (%s): %04x:%04x on %s: no DPDK driver we know of\n",
			ifc->name, addr, nic->vendor, nic->device,
			nic->driver[0] ? nic->driver : "no driver");
		fprintf(out,
			"  fix: a NIC DPDK drives (doc.dpdk.org/guides/nics), or this one through "
			"the kernel: port = \"net_af_packet_%s,iface=%s\"\n",
			ifc->name, nic->ifname[0] ? nic->ifname : "<interface>");
		return false;
	}
	if (nic->bifurcated) {
		fprintf(out, "ok   port %s (%s): %s%s%s%s, PMD %s beside the kernel driver\n",
			ifc->name, addr, nic->driver, nic->ifname[0] ? " (" : "", nic->ifname,
			nic->ifname[0] ? ")" : "", nic->pmd);
		return false;
	}
	(*lacks)++;
	fprintf(out, "lack port %s (%s): the kernel's %s%s%s%s has it, PMD %s needs vfio-pci\n",
		ifc->name, addr, nic->driver, nic->ifname[0] ? " (" : "", nic->ifname,
		nic->ifname[0] ? ")" : "", nic->pmd);
	fprintf(out, devbind_fix, addr, nic->ifname[0] ? " with its interface " : "", nic->ifname);
	return true;
}

/* A virtual device: what it needs from the box (an af_packet port, its interface). */
static void check_vdev(const char *root, const struct cfg_iface *ifc, FILE *out,
	unsigned int *lacks)
{
	char drv[64], ifname[64], rel[160], path[PATH_MAX], oper[16] = "";

	snprintf(drv, sizeof(drv), "%.*s", (int)strcspn(ifc->port, ","), ifc->port);
	if (strncmp(drv, "net_af_packet", 13) && strncmp(drv, "eth_af_packet", 13)) {
		fprintf(out, "ok   port %s (%s): a virtual device, nothing the box must have\n",
			ifc->name, drv);
		return;
	}
	devarg(ifc->port, "iface", ifname, sizeof(ifname));
	if (!ifname[0]) {
		(*lacks)++;
		fprintf(out, "lack port %s (%s): no iface= to bind to\n", ifc->name, drv);
		fprintf(out, "  fix: port = \"%s,iface=<interface>\" (ip -br link lists them)\n",
			drv);
		return;
	}
	snprintf(rel, sizeof(rel), "/sys/class/net/%s", ifname);
	snprintf(path, sizeof(path), "%s%s", root, rel);
	if (access(path, F_OK) < 0) {
		(*lacks)++;
		fprintf(out,
			"lack port %s (%s): no network interface %s in this network namespace\n",
			ifc->name, drv, ifname);
		fprintf(out,
			"  fix: run edged where %s is (the lab's are in namespace edge: "
			"scripts/lab.sh up, then ip netns exec edge edged ...), or create it "
			"(ip link add %s type veth peer name %s-peer)\n",
			ifname, ifname, ifname);
		return;
	}
	snprintf(rel, sizeof(rel), "/sys/class/net/%s/operstate", ifname);
	read_line(root, rel, oper, sizeof(oper));
	fprintf(out, "ok   port %s (%s): interface %s%s%s\n", ifc->name, drv, ifname,
		oper[0] ? ", link " : "", oper);
}

unsigned int hw_check_config(const char *root, const struct hw_report *r,
	const struct edge_cfg *cfg, FILE *out)
{
	unsigned int lacks = 0;
	char vfio[64] = "";

	if (!root || !strcmp(root, "/"))
		root = "";
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct cfg_iface *ifc = &cfg->ifs[i];

		if (!cfg_port_is_pci(ifc->port)) {
			check_vdev(root, ifc, out, &lacks);
			continue;
		}
		if (check_pci(r, ifc, out, &lacks) &&
			strlen(vfio) + strlen(ifc->name) + 2 < sizeof(vfio))
			snprintf(vfio + strlen(vfio), sizeof(vfio) - strlen(vfio), "%s%s",
				vfio[0] ? " " : "", ifc->name);
	}
	if (vfio[0]) {
		if (r->iommu)
			fprintf(out, "ok   IOMMU: on, for vfio-pci (port %s)\n", vfio);
		else if (r->vfio_noiommu)
			fprintf(out,
				"note IOMMU: off; vfio-pci (port %s) runs in its unsafe no-IOMMU "
				"mode: the NIC's DMA is unchecked\n",
				vfio);
		else {
			lacks++;
			fprintf(out, "lack IOMMU: off, and vfio-pci (port %s) needs it\n", vfio);
			fprintf(out,
				"  fix: intel_iommu=on iommu=pt (Intel) or amd_iommu=on iommu=pt "
				"(AMD) on the kernel command line, and VT-d/AMD-Vi on in the "
				"firmware; without one (a VM without a vIOMMU): echo 1 > "
				"/sys/module/vfio/parameters/enable_unsafe_noiommu_mode\n");
		}
	}
	check_cores(r, cfg, out, &lacks);
	check_memory(r, cfg, out, &lacks);
	return lacks;
}
