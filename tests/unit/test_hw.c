/* `edgectl hardware` (controlplane/base/hw.c) against /proc and /sys trees written here as a
 * real server lays them out (sysfs-bus-pci, sysfs-class-net, the hugepages and iommu_groups
 * ABI documents): an Intel XL710 on i40e, a Mellanox ConnectX-5 on mlx5_core, an Intel E810
 * already bound to vfio-pci, a Realtek NIC DPDK does not drive, a SATA controller that is no
 * NIC; then a box with nothing ready. The page's facts and its fixes are checked line by line;
 * the machine the test runs on is read too, and must not make it fail. Then `edged -t`'s checks
 * (hw_check_config): a configuration's ports, cores and memory against such trees. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edge_config.h"
#include "hw.h"
#include "unit.h"

static char root[64];

static void mkdirs(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
}

static void put(const char *rel, const char *text)
{
	char path[512], dir[512];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", rel);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	snprintf(path, sizeof(path), "%s%s", root, rel);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *rel, const char *target)
{
	char path[512], dir[512];

	snprintf(dir, sizeof(dir), "%s", rel);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	snprintf(path, sizeof(path), "%s%s", root, rel);
	CU_ASSERT_EQUAL(symlink(target, path), 0);
}

static void nic(const char *pci, const char *cls, const char *vendor, const char *device,
	const char *driver, const char *ifname, const char *oper)
{
	char rel[256], target[256];

	snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/class", pci);
	put(rel, cls);
	snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/vendor", pci);
	put(rel, vendor);
	snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/device", pci);
	put(rel, device);
	if (driver) {
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/driver", pci);
		snprintf(target, sizeof(target), "../../../../bus/pci/drivers/%s", driver);
		link_to(rel, target);
	}
	if (ifname) {
		snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/net/%s/operstate", pci, ifname);
		put(rel, oper);
		snprintf(rel, sizeof(rel), "/sys/class/net/%s/operstate", ifname);
		put(rel, oper);
	}
}

static char *page(const struct hw_report *r, unsigned int *lacks)
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	*lacks = hw_print(r, f);
	fclose(f);
	return buf;
}

static void test_server(void)
{
	static struct hw_report r;
	unsigned int lacks;
	char *p;

	snprintf(root, sizeof(root), "/tmp/edge-hw.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
	put("/proc/cpuinfo",
		"processor\t: 0\nvendor_id\t: GenuineIntel\n"
		"model name\t: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\n\n"
		"processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\n\n"
		"processor\t: 2\n\nprocessor\t: 3\n");
	put("/sys/devices/system/cpu/isolated", "2-3\n");
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "1024\n");
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "1000\n");
	put("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0\n");
	put("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "0\n");
	mkdirs("/sys/kernel/iommu_groups/17/devices");
	nic("0000:03:00.0", "0x020000\n", "0x8086\n", "0x1572\n", "i40e", "enp3s0f0", "up\n");
	nic("0000:04:00.0", "0x020000\n", "0x15b3\n", "0x1017\n", "mlx5_core", "ens4f0", "down\n");
	nic("0000:05:00.0", "0x020000\n", "0x8086\n", "0x159b\n", "vfio-pci", NULL, NULL);
	nic("0000:06:00.0", "0x020000\n", "0x10ec\n", "0x8168\n", "r8169", "enp6s0", "up\n");
	nic("0000:00:1f.2", "0x010601\n", "0x8086\n", "0xa352\n", "ahci", NULL, NULL);

	CU_ASSERT_EQUAL_FATAL(hw_probe(root, &r), 0);
	CU_ASSERT_STRING_EQUAL(r.cpu_model, "Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz");
	CU_ASSERT_EQUAL(r.cpus, 4);
	CU_ASSERT_STRING_EQUAL(r.isolated, "2-3");
	CU_ASSERT_EQUAL_FATAL(r.n_hp, 2);
	CU_ASSERT_EQUAL(r.hp[0].size_kb, 2048); /* by size */
	CU_ASSERT_EQUAL(r.hp[0].total, 1024);
	CU_ASSERT_EQUAL(r.hp[0].free, 1000);
	CU_ASSERT_EQUAL(r.hp[1].size_kb, 1048576);
	CU_ASSERT_TRUE(r.iommu);
	CU_ASSERT_EQUAL_FATAL(r.n_nics, 4); /* not the SATA controller */
	CU_ASSERT_STRING_EQUAL(r.nics[0].pci, "0000:03:00.0");
	CU_ASSERT_EQUAL(r.nics[0].vendor, 0x8086);
	CU_ASSERT_EQUAL(r.nics[0].device, 0x1572);
	CU_ASSERT_STRING_EQUAL(r.nics[0].driver, "i40e");
	CU_ASSERT_STRING_EQUAL(r.nics[0].ifname, "enp3s0f0");
	CU_ASSERT_STRING_EQUAL(r.nics[0].operstate, "up");
	CU_ASSERT_STRING_EQUAL(r.nics[0].pmd, "net_i40e");
	CU_ASSERT_FALSE(r.nics[0].bifurcated);
	CU_ASSERT_STRING_EQUAL(r.nics[1].pmd, "mlx5_pci");
	CU_ASSERT_TRUE(r.nics[1].bifurcated);
	CU_ASSERT_STRING_EQUAL(r.nics[2].driver, "vfio-pci");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.nics[2].pmd, "Intel"));
	CU_ASSERT_STRING_EQUAL(r.nics[2].ifname, "");
	CU_ASSERT_PTR_NULL(r.nics[3].pmd);

	p = page(&r, &lacks);
	CU_ASSERT_EQUAL(lacks, 1); /* only the XL710, still the kernel's */
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"CPU                       : Intel(R) Xeon(R) Gold 6338N "
		"CPU @ 2.20GHz, 4 CPUs\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "Isolated CPUs             : 2-3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "Hugepages 2 MB            : 1024 reserved, 1000 free\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "Hugepages 1 GB            : 0 reserved, 0 free\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "IOMMU                     : on\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "Ethernet NICs             : 4\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"  0000:03:00.0 8086:1572 driver i40e (enp3s0f0): DPDK can "
		"take it once bound to vfio-pci\n    PMD net_i40e, link up\n"
		"  fix: dpdk-devbind.py --bind=vfio-pci 0000:03:00.0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"  0000:04:00.0 15b3:1017 driver mlx5_core (ens4f0): DPDK "
		"beside the kernel driver\n    PMD mlx5_pci, link down\n  "
		"0000:05:00.0"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p, "  0000:05:00.0 8086:159b driver vfio-pci: bound for DPDK\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"  0000:06:00.0 10ec:8168 driver r8169 (enp6s0): no DPDK driver we know of\n"));
	CU_ASSERT_EQUAL(strstr(p, "fix:") - p, strstr(p, "fix: dpdk-devbind.py") - p); /* the one */
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "Ready for the data plane  : no (see the fixes above)\n"));
}

static void test_nothing_ready(void)
{
	static struct hw_report r;
	unsigned int lacks;
	char *p, cmd[512];

	/* the same tree without hugepages, isolation, IOMMU or a NIC DPDK can drive */
	snprintf(cmd, sizeof(cmd), "rm -rf %s/sys/kernel %s/sys/devices %s/sys/bus", root, root,
		root);
	CU_ASSERT_EQUAL(system(cmd), 0);
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "0\n");
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "0\n");
	put("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n");
	nic("0000:06:00.0", "0x020000\n", "0x10ec\n", "0x8168\n", "r8169", "enp6s0", "up\n");
	CU_ASSERT_EQUAL_FATAL(hw_probe(root, &r), 0);
	CU_ASSERT_FALSE(r.iommu);
	CU_ASSERT_TRUE(r.vfio_noiommu);
	p = page(&r, &lacks);
	CU_ASSERT_EQUAL(lacks, 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"Isolated CPUs             : none\n  fix: give the data "
		"plane's lcores to it alone: isolcpus=1-3 nohz_full=1-3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"Hugepages 2 MB            : 0 reserved, 0 free\n  fix: "
		"reserve 2 MB pages: echo 'vm.nr_hugepages = 1024'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"IOMMU                     : off (vfio's unsafe no-IOMMU "
		"mode is on)\n  fix: intel_iommu=on iommu=pt"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "  fix: no NIC the data plane can drive here"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "Ready for the data plane  : no"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CU_ASSERT_EQUAL(system(cmd), 0);
	/* no tree at all: said, not guessed */
	CU_ASSERT_EQUAL(hw_probe(root, &r), -ENOENT);
	/* this machine: whatever it has, the page is whole */
	if (hw_probe("/", &r) == 0) {
		p = page(&r, &lacks);
		CU_ASSERT_PTR_NOT_NULL(strstr(p, "Ready for the data plane  : "));
	}
}

/* `edged -t`: a box of @cpus CPUs (@isolated: the kernel's list, NULL: none), @hp_total 2 MB
 * hugepages of which @hp_free are free, an IOMMU or not; in a new tree. */
static void box(unsigned int cpus, const char *isolated, unsigned int hp_total,
	unsigned int hp_free, bool iommu)
{
	char buf[1024] = "", num[32];
	size_t n = 0;

	snprintf(root, sizeof(root), "/tmp/edge-hw.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
	for (unsigned int i = 0; i < cpus; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			"processor\t: %u\nmodel name\t: Intel(R) Xeon(R) D-2146NT\n\n", i);
	put("/proc/cpuinfo", buf);
	if (isolated)
		put("/sys/devices/system/cpu/isolated", isolated);
	snprintf(num, sizeof(num), "%u\n", hp_total);
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", num);
	snprintf(num, sizeof(num), "%u\n", hp_free);
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", num);
	put("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0\n");
	put("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "0\n");
	put("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N\n");
	if (iommu)
		mkdirs("/sys/kernel/iommu_groups/3/devices");
}

static void box_gone(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* A configuration of ports a (and b when @port_b), lcores @cores, @memory_mb of hugepages (or
 * none). */
static const struct edge_cfg *conf(const char *port_a, const char *port_b, const char *cores,
	bool hugepages, int memory_mb)
{
	static struct edge_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.cores, sizeof(cfg.cores), "%s", cores);
	cfg.hugepages = hugepages;
	cfg.memory_mb = memory_mb;
	snprintf(cfg.ifs[0].name, sizeof(cfg.ifs[0].name), "a");
	snprintf(cfg.ifs[0].port, sizeof(cfg.ifs[0].port), "%s", port_a);
	cfg.n_ifs = 1;
	if (port_b) {
		snprintf(cfg.ifs[1].name, sizeof(cfg.ifs[1].name), "b");
		snprintf(cfg.ifs[1].port, sizeof(cfg.ifs[1].port), "%s", port_b);
		cfg.n_ifs = 2;
	}
	return &cfg;
}

/* hw_check_config's lines for @cfg on the tree; *@lacks its count, checked against the lines
 * that say "lack" and their fixes. */
static char *check(const struct edge_cfg *cfg, unsigned int *lacks)
{
	static struct hw_report r;
	static char buf[8192];
	unsigned int said = 0, fixes = 0;
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(hw_probe(root, &r), 0);
	f = fmemopen(buf, sizeof(buf), "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	*lacks = hw_check_config(root, &r, cfg, f);
	fclose(f);
	for (const char *l = buf; *l; l = strchr(l, '\n') + 1) {
		said += !strncmp(l, "lack ", 5);
		fixes += !strncmp(l, "  fix: ", 7);
		CU_ASSERT_TRUE(!strncmp(l, "ok ", 3) || !strncmp(l, "note ", 5) ||
			!strncmp(l, "lack ", 5) || !strncmp(l, "  fix: ", 7));
		if (!strchr(l, '\n'))
			break;
	}
	CU_ASSERT_EQUAL(said, *lacks);
	CU_ASSERT_EQUAL(fixes, *lacks);
	return buf;
}

static void test_check_pci(void)
{
	unsigned int lacks;
	char *p;

	/* (a) an 82599 on vfio-pci, an IOMMU, 4 CPUs with the workers isolated, hugepages */
	box(4, "1-3\n", 1024, 1000, true);
	nic("0000:03:00.0", "0x020000\n", "0x8086\n", "0x10fb\n", "vfio-pci", NULL, NULL);
	nic("0000:03:00.1", "0x020000\n", "0x8086\n", "0x10fb\n", "vfio-pci", NULL, NULL);
	p = check(conf("0000:03:00.0", "03:00.1", "0-3", true, 2000), &lacks);
	CU_ASSERT_EQUAL(lacks, 0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p, "ok   port a (0000:03:00.0): bound to vfio-pci, PMD Intel"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "ok   port b (0000:03:00.1): bound to vfio-pci"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "ok   IOMMU: on, for vfio-pci (port a b)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "ok   cores \"0-3\": this box has 4 CPUs\n"));
	CU_ASSERT_PTR_NULL(strstr(p, "not isolated"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p, "ok   hugepages: 2000 MB free, eal.memory_mb asks 2000 MB\n"));
	/* a NIC on vfio-pci from a vendor we do not know: DPDK's to drive, no lack */
	nic("0000:08:00.0", "0x020000\n", "0x19ee\n", "0x4000\n", "vfio-pci", NULL, NULL);
	p = check(conf("0000:08:00.0", NULL, "0-3", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"ok   port a (0000:08:00.0): bound to vfio-pci, PMD of DPDK's choosing\n"));
	box_gone();

	/* (b) the same NIC on its kernel driver: bind it */
	box(4, "1-3\n", 1024, 1000, true);
	nic("0000:03:00.0", "0x020000\n", "0x8086\n", "0x10fb\n", "ixgbe", "enp3s0f0", "up\n");
	p = check(conf("0000:03:00.0", NULL, "0-3", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"lack port a (0000:03:00.0): the kernel's ixgbe (enp3s0f0) has it, PMD net_ixgbe "
		"needs vfio-pci\n  fix: dpdk-devbind.py --bind=vfio-pci 0000:03:00.0 (modprobe "
		"vfio-pci first; the port leaves the kernel with its interface enp3s0f0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "ok   IOMMU: on, for vfio-pci (port a)\n"));
	box_gone();

	/* vfio-pci without an IOMMU: a lack, unless vfio's no-IOMMU mode is on (a note) */
	box(4, "1-3\n", 1024, 1000, false);
	nic("0000:03:00.0", "0x020000\n", "0x8086\n", "0x10fb\n", "vfio-pci", NULL, NULL);
	p = check(conf("0000:03:00.0", NULL, "0-3", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"lack IOMMU: off, and vfio-pci (port a) needs it\n  fix: intel_iommu=on iommu=pt"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p, "echo 1 > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode\n"));
	put("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n");
	p = check(conf("0000:03:00.0", NULL, "0-3", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "note IOMMU: off; vfio-pci (port a) runs in its unsafe"));
	box_gone();

	/* (c) a ConnectX-5 on mlx5_core: DPDK beside the kernel, no vfio-pci, no IOMMU needed */
	box(4, "1-3\n", 1024, 1000, false);
	nic("0000:04:00.0", "0x020000\n", "0x15b3\n", "0x1017\n", "mlx5_core", "ens4f0", "up\n");
	p = check(conf("0000:04:00.0", NULL, "0-3", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"ok   port a (0000:04:00.0): mlx5_core (ens4f0), PMD mlx5_pci beside the kernel "
		"driver\n"));
	CU_ASSERT_PTR_NULL(strstr(p, "IOMMU"));

	/* no NIC at the address; a NIC DPDK does not drive; an Intel NIC with no driver */
	nic("0000:06:00.0", "0x020000\n", "0x10ec\n", "0x8168\n", "r8169", "enp6s0", "up\n");
	nic("0000:07:00.0", "0x020000\n", "0x8086\n", "0x1572\n", NULL, NULL, NULL);
	p = check(conf("0000:05:00.0", "0000:06:00.0", "0-3", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"lack port a (0000:05:00.0): no Ethernet NIC at this PCI address\n  fix: lspci -D "
		"-d ::0200 lists this box's NICs (0000:04:00.0, 0000:06:00.0, 0000:07:00.0)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"lack port b (0000:06:00.0): 10ec:8168 on r8169: no DPDK driver we know of\n"
		"  fix: a NIC DPDK drives (doc.dpdk.org/guides/nics), or this one through the "
		"kernel: port = \"net_af_packet_b,iface=enp6s0\"\n"));
	p = check(conf("0000:07:00.0", NULL, "0-3", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 2); /* not bound, and vfio-pci would need the IOMMU */
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"lack port a (0000:07:00.0): 8086:1572 has no driver bound\n  fix: dpdk-devbind.py "
		"--bind=vfio-pci 0000:07:00.0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "lack IOMMU: off, and vfio-pci (port a) needs it\n"));
	box_gone();
}

static void test_check_af_packet(void)
{
	unsigned int lacks;
	char *p;

	/* (d) the lab's ports: veth-a here, veth-b not (another network namespace) */
	box(2, NULL, 0, 0, false);
	put("/sys/class/net/veth-a/operstate", "up\n");
	p = check(conf("net_af_packet0,iface=veth-a,qpairs=1", "net_af_packet1,iface=veth-b", "0,1",
			  false, 256),
		&lacks);
	CU_ASSERT_EQUAL(lacks, 1);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p, "ok   port a (net_af_packet0): interface veth-a, link up\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"lack port b (net_af_packet1): no network interface veth-b in this network "
		"namespace\n  fix: run edged where veth-b is (the lab's are in namespace edge: "
		"scripts/lab.sh up, then ip netns exec edge edged"));
	CU_ASSERT_PTR_NULL(strstr(p, "IOMMU")); /* no PCI port: no IOMMU needed */
	/* without hugepages in the configuration: no hugepages needed */
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p, "ok   memory: 256 MB without hugepages (eal.hugepages = false)\n"));
	put("/sys/class/net/veth-b/operstate", "down\n");
	p = check(conf("net_af_packet0,iface=veth-a,qpairs=1", "net_af_packet1,iface=veth-b", "0,1",
			  false, 256),
		&lacks);
	CU_ASSERT_EQUAL(lacks, 0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p, "ok   port b (net_af_packet1): interface veth-b, link down\n"));
	/* no iface=: nothing to bind to; other virtual devices need nothing */
	p = check(conf("net_af_packet0,qpairs=1", "net_tap0,iface=edge-x", "0,1", false, 256),
		&lacks);
	CU_ASSERT_EQUAL(lacks, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "lack port a (net_af_packet0): no iface= to bind to\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "ok   port b (net_tap0): a virtual device"));
	box_gone();
}

static void test_check_memory_cores(void)
{
	unsigned int lacks;
	char *p;

	/* (e) 256 MB asked, 100 of 128 2 MB pages free: 28 more */
	box(2, NULL, 128, 100, false);
	put("/sys/class/net/veth-a/operstate", "up\n");
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "0,1", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"lack hugepages: 200 MB free, eal.memory_mb asks 256 MB\n  fix: echo 156 > "
		"/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages (to keep it: echo "
		"'vm.nr_hugepages = 156' > /etc/sysctl.d/80-edge-hugepages.conf), or eal: { "
		"hugepages = false; }"));
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "128\n");
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "0,1", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 0); /* exactly enough */
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p, "ok   hugepages: 256 MB free, eal.memory_mb asks 256 MB\n"));
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "0,1", true, 258), &lacks);
	CU_ASSERT_EQUAL(lacks, 1); /* one page short */
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "fix: echo 129 > "));
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "0,1", true, 257), &lacks);
	CU_ASSERT_EQUAL(lacks, 1); /* half a page short: a whole one more */
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "fix: echo 129 > "));
	/* the worker CPU not isolated: a note, not a lack */
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"note worker CPU 1 not isolated: the kernel may run other work there (isolcpus=1 "
		"nohz_full=1 rcu_nocbs=1"));

	/* (f) more CPUs than the box has */
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "0-3,6", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(p,
		"lack cores \"0-3,6\": CPU 2-3,6 not on this box (it has 2: 0-1)\n  fix: eal: { "
		"cores = \"0-1\"; }"));
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "0-2", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 1); /* one past the last */
	CU_ASSERT_PTR_NOT_NULL(
		strstr(p, "lack cores \"0-2\": CPU 2 not on this box (it has 2: 0-1)\n"));
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "0,2000", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "lack cores \"0,2000\": CPU 2000 not on this box"));
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "1", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "ok   cores \"1\": this box has 2 CPUs\n"));
	CU_ASSERT_PTR_NULL(strstr(p, "isolated")); /* a control plane alone: no worker */
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "0,x", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "lack cores \"0,x\": no CPU list\n"));

	/* isolated workers: no note; a partly isolated set names the rest */
	put("/sys/devices/system/cpu/isolated", "1\n");
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "0,1", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 0);
	CU_ASSERT_PTR_NULL(strstr(p, "isolated"));
	box_gone();
	box(8, "2-3,6\n", 128, 128, false);
	put("/sys/class/net/veth-a/operstate", "up\n");
	p = check(conf("net_af_packet0,iface=veth-a", NULL, "1-7", true, 256), &lacks);
	CU_ASSERT_EQUAL(lacks, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "note worker CPU 4-5,7 not isolated"));
	box_gone();
}

static const struct unit_test tests[] = {
	{ "a server: XL710 on i40e, ConnectX-5 on mlx5, E810 on vfio-pci, a Realtek, hugepages, "
	  "isolated CPUs, IOMMU",
		test_server },
	{ "a box with nothing ready: every lack has its fix; no tree; this machine",
		test_nothing_ready },
	{ "edged -t: PCI ports on vfio-pci, ixgbe, mlx5_core, none; the IOMMU vfio-pci needs",
		test_check_pci },
	{ "edged -t: af_packet ports' interfaces in this network namespace", test_check_af_packet },
	{ "edged -t: hugepages for eal.memory_mb, eal.cores against the CPUs and their isolation",
		test_check_memory_cores },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("hw", tests);
}
