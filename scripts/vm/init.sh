#!/bin/sh
# PID 1 of the PCIe test rig's VM (scripts/vm/build-image.sh installs it as /sbin/spdk-node-vm-init).
# Mounts what SPDK needs, loads the user-space PCI drivers, reserves hugepages, then runs the agent
# that executes the host's commands over a virtio-serial port. The kernel passes key=value arguments
# of its command line to us as environment variables: hugepages_mb.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /dev/hugepages
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -o remount,rw /
hostname spdk-node-vm
for module in virtio_pci virtio_console uio_pci_generic vfio_pci; do
	modprobe "$module" || echo "init: modprobe $module failed" >&2
done
mount -t hugetlbfs nodev /dev/hugepages
echo $(( ${hugepages_mb:-1024} / 2 )) >/proc/sys/vm/nr_hugepages
ulimit -l unlimited

port=
for _ in $(seq 50); do
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = org.spdk-node.agent ] && port=/dev/${p##*/}
	done
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "init: no virtio-serial port org.spdk-node.agent" >&2; echo o >/proc/sysrq-trigger; }
echo "init: agent on $port"
# The agent runs as a child so that PID 1 stays a shell that reaps orphans; if it dies, power off.
node /opt/spdk-node-vm/agent.js "$port" &
wait $!
echo "init: agent exited ($?); powering off"
echo o >/proc/sysrq-trigger
