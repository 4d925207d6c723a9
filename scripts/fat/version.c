/*
 * Linked into libspdk_fat.so by build.sh: the SPDK version the library was built from, as a
 * data symbol that a loader can read from the file (without loading it) and compare with the
 * version an addon was compiled against. SPDK's ABI changes between releases, so a mismatched
 * pair must be refused before it is loaded.
 */
#include "spdk/version.h"

__attribute__((visibility("default"))) const char spdk_fat_version_string[] = SPDK_VERSION_STRING;
