/*
 * build.sh's smoke test: linked against the installed libspdk_fat.so, it initialises SPDK's
 * environment (DPDK EAL) without hugepages or PCI access, allocates DMA-safe memory, and exits 0.
 * Proves the library loads, its constructors run and the environment comes up on this host.
 */
#include <stdio.h>
#include <unistd.h>
#include "spdk/env.h"
#include "spdk/version.h"

extern const char spdk_fat_version_string[];

int
main(void)
{
	struct spdk_env_opts opts;
	char name[64];
	void *buf;

	opts.opts_size = sizeof(opts);
	spdk_env_opts_init(&opts);
	snprintf(name, sizeof(name), "spdk_fat_smoke_%d", (int)getpid());
	opts.name = name;
	opts.no_huge = true;
	opts.no_pci = true;
	opts.mem_size = 64;
	opts.core_mask = "0x1";
	if (spdk_env_init(&opts) < 0) {
		fprintf(stderr, "spdk_env_init failed\n");
		return 1;
	}
	buf = spdk_dma_zmalloc(4096, 4096, NULL);
	if (buf == NULL) {
		fprintf(stderr, "spdk_dma_zmalloc failed\n");
		spdk_env_fini();
		return 1;
	}
	spdk_dma_free(buf);
	spdk_env_fini();
	printf("%s: environment initialised and DMA memory allocated without hugepages\n",
	       spdk_fat_version_string);
	return 0;
}
