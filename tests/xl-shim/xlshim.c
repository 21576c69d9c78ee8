/* An LD_PRELOAD shim that lets Xen 4.17's xl parse domain configs without a hypervisor:
 * `xl -N create CFG` (a dry run) still opens the privileged command interface and
 * xenstore and asks Xen for its version and the machine's size before it prints the
 * config it parsed as JSON. These stand-ins answer for a 1-CPU, 1-node Xen 4.17.
 * Signatures as in xenctrl.h and xenstore.h (libxen-dev 4.17); built by vmup's
 * differential test (src/formats/domconfig/tests/differential.rs). */
#include <stdint.h>
#include <string.h>

static int fake_xc, fake_xs;

/* struct xen_sysctl_physinfo (xen/sysctl.h, 4.17): 112 bytes. */
struct physinfo {
    uint32_t threads_per_core, cores_per_socket, nr_cpus, max_cpu_id;
    uint32_t nr_nodes, max_node_id, cpu_khz, capabilities, arch_capabilities, pad;
    uint64_t total_pages, free_pages, scrub_pages, outstanding_pages, max_mfn;
    uint32_t hw_cap[8];
};

void *xc_interface_open(void *logger, void *dombuild_logger, unsigned open_flags)
{ (void)logger; (void)dombuild_logger; (void)open_flags; return &fake_xc; }
int xc_interface_close(void *xch) { (void)xch; return 0; }
void *xs_open(unsigned long flags) { (void)flags; return &fake_xs; }
void xs_close(void *xsh) { (void)xsh; }

/* XENVER_version (0) is (major << 16) | minor; the string queries get "". */
int xc_version(void *xch, int cmd, void *arg)
{
    (void)xch;
    if (cmd == 0) return (4 << 16) | 17;
    if (arg && (cmd == 1 || cmd == 3 || cmd == 4 || cmd == 9)) *(char *)arg = 0;
    return 0;
}

int xc_physinfo(void *xch, struct physinfo *info)
{
    (void)xch;
    memset(info, 0, sizeof *info);
    info->threads_per_core = info->cores_per_socket = info->nr_cpus = info->nr_nodes = 1;
    info->total_pages = info->free_pages = 262144; /* 1 GiB */
    return 0;
}

int xc_get_max_cpus(void *xch) { (void)xch; return 1; }
int xc_get_max_nodes(void *xch) { (void)xch; return 1; }
long xc_sharing_freed_pages(void *xch) { (void)xch; return 0; }
long xc_sharing_used_frames(void *xch) { (void)xch; return 0; }
