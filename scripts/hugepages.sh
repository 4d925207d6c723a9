#!/usr/bin/env bash
# Reserves hugepages for SPDK and mounts hugetlbfs. Usage: sudo scripts/hugepages.sh [MEGABYTES]
# (default 2048: SPDK with every subsystem linked in wants about 1 GiB, and tests run two
# instances at once). Not persistent across reboots: add vm.nr_hugepages to /etc/sysctl.conf
# and a hugetlbfs line to /etc/fstab for that.
set -euo pipefail
megabytes=${1:-2048}
[[ $megabytes =~ ^[0-9]+$ ]] || { echo "usage: $0 [MEGABYTES]" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
	echo "hugepages.sh: run as root: sudo $0 $megabytes" >&2
	exit 1
fi
page_kb=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
pages=$(( (megabytes * 1024 + page_kb - 1) / page_kb ))
echo "$pages" >/proc/sys/vm/nr_hugepages
got=$(cat /proc/sys/vm/nr_hugepages)
mkdir -p /dev/hugepages
if ! awk '$3 == "hugetlbfs" {found=1} END {exit !found}' /proc/mounts; then
	mount -t hugetlbfs nodev /dev/hugepages
fi
echo "hugepages.sh: $got pages of $((page_kb / 1024)) MB reserved (asked for $pages); hugetlbfs mounted"
[ "$got" -ge "$pages" ] || { echo "hugepages.sh: the kernel gave fewer pages than asked (memory is fragmented; try again after freeing memory, or reboot)" >&2; exit 1; }
