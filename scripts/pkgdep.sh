#!/usr/bin/env bash
# Installs what build.sh and the addon need to build SPDK and spdk-node: compilers, meson/ninja,
# nasm, python3 with elftools, the -dev headers SPDK links against, libuv's header for the addon
# where Node's own include directory lacks it (the Dockerfile's build stage), and QEMU with
# debootstrap for the PCIe test rig (npm run test:vm). Debian/Ubuntu and Fedora/RHEL. Run as root
# (or with sudo).
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	echo "pkgdep.sh: run as root: sudo $0" >&2
	exit 1
fi

if command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends \
		gcc g++ make cmake git ca-certificates pkg-config meson ninja-build nasm \
		autoconf automake libtool python3 python3-pyelftools \
		libnuma-dev libssl-dev uuid-dev libaio-dev liburing-dev libkeyutils-dev \
		libncurses-dev libfuse3-dev libjson-c-dev libuv1-dev binutils \
		qemu-system-x86 debootstrap fdisk e2fsprogs
elif command -v dnf >/dev/null 2>&1; then
	dnf install -y \
		gcc gcc-c++ make cmake git pkgconf-pkg-config meson ninja-build nasm \
		autoconf automake libtool python3 python3-pyelftools \
		numactl-devel openssl-devel libuuid-devel libaio-devel liburing-devel keyutils-libs-devel \
		ncurses-devel fuse3-devel json-c-devel libuv-devel binutils \
		qemu-system-x86 debootstrap util-linux e2fsprogs
else
	echo "pkgdep.sh: no apt-get or dnf here; install the packages listed in this script by hand" >&2
	exit 1
fi
echo "pkgdep.sh: prerequisites installed; next: ./build.sh"
