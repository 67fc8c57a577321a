/* `edgectl hardware` (issue 19): what this box has for the data plane and what it lacks, read
 * from /proc and /sys (under a root directory, so that tests read a tree of their own): the
 * CPU and its isolated cores, hugepages by size, the IOMMU, and each Ethernet NIC on the PCI
 * bus with its driver, whether a DPDK poll-mode driver takes it and how, and its link; with
 * the command that fixes each lack. Reads only; allocates nothing. */
#ifndef EDGE_HW_H
#define EDGE_HW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HW_MAX_NICS 32
#define HW_MAX_HP 4

struct hw_nic {
	char pci[16]; /* "0000:03:00.0" */
	uint16_t vendor, device;
	char driver[32];    /* the kernel driver bound to it, "" when none */
	char ifname[32];    /* its network interface while a kernel driver has it, "" else */
	char operstate[16]; /* its link ("up", "down"), "" when not known */
	const char *pmd;    /* the DPDK poll-mode driver that takes it, NULL: none we know */
	bool bifurcated;    /* the PMD works beside the kernel driver (mlx5): no vfio-pci */
};

struct hw_report {
	char cpu_model[96];
	unsigned int cpus;
	char isolated[64]; /* the kernel's isolated CPU list, "" when none */
	unsigned int n_hp;
	struct {
		unsigned long size_kb, total, free;
	} hp[HW_MAX_HP];
	bool iommu;	   /* an IOMMU group exists (/sys/kernel/iommu_groups) */
	bool vfio_noiommu; /* vfio's unsafe no-IOMMU mode is on */
	unsigned int n_nics;
	struct hw_nic nics[HW_MAX_NICS];
};

/* The DPDK poll-mode driver for a NIC the kernel driver @driver has (or vendor @vendor's,
 * when it is bound to vfio-pci or uio), NULL when none we know; *@bifurcated when it runs
 * beside the kernel driver. */
const char *hw_pmd_for(const char *driver, uint16_t vendor, bool *bifurcated);

/* Reads the box under @root ("" or "/": this one) into @r. 0, or -errno when /proc or /sys
 * cannot be read at all. */
int hw_probe(const char *root, struct hw_report *r);

/* The page: every fact, and after each lack "  fix: <command>". How many lacks. */
unsigned int hw_print(const struct hw_report *r, FILE *out);

struct edge_cfg;

/* `edged -t`: what configuration @cfg needs from the box @r (probed under @root, where the
 * network interfaces of af_packet ports are looked up too: /sys/class/net of the current
 * network namespace): each port's NIC and its driver, or the interface an af_packet port
 * binds to; the lcores of eal.cores; eal.memory_mb of free hugepages when eal.hugepages.
 * One line per check, "ok ...", "note ..." (worth knowing, not needed) or "lack ..."
 * followed by "  fix: <command>". How many lacks. */
unsigned int hw_check_config(const char *root, const struct hw_report *r,
	const struct edge_cfg *cfg, FILE *out);

#endif
