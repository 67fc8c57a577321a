/* `edgectl hardware` (controlplane/base/hw.c) against /proc and /sys trees written here as a
 * real server lays them out (sysfs-bus-pci, sysfs-class-net, the hugepages and iommu_groups
 * ABI documents): an Intel XL710 on i40e, a Mellanox ConnectX-5 on mlx5_core, an Intel E810
 * already bound to vfio-pci, a Realtek NIC DPDK does not drive, a SATA controller that is no
 * NIC; then a box with nothing ready. The page's facts and its fixes are checked line by line;
 * the machine the test runs on is read too, and must not make it fail. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static const struct unit_test tests[] = {
	{ "a server: XL710 on i40e, ConnectX-5 on mlx5, E810 on vfio-pci, a Realtek, hugepages, "
	  "isolated CPUs, IOMMU",
		test_server },
	{ "a box with nothing ready: every lack has its fix; no tree; this machine",
		test_nothing_ready },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("hw", tests);
}
