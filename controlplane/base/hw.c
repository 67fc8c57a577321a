/* `edgectl hardware`: hw.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
