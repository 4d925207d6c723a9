#!/usr/bin/env bash
# Builds the VM image the PCIe test rig (`npm run test:vm`) boots: Debian's cloud kernel, a minimal
# debootstrap root with SPDK's runtime libraries, and a payload of this machine's node, the installed
# libspdk_fat.so (with SPDK's tools) and this clone's built package. Prints the image's directory.
#
# Cached in $SPDK_NODE_VM_CACHE (default /var/cache/spdk-node-vm): the kernel and the debootstrap
# root (slow: a download) are built once per package list; the bootable disk image is recomposed
# only when the payload changed (a hash of every file in it), which takes seconds.
#
# Usage: scripts/vm/build-image.sh [--base-only]   (root; needs debootstrap, e2fsprogs, fdisk)
set -euo pipefail
cd "$(dirname "$0")/../.."
project=$PWD

cache=${SPDK_NODE_VM_CACHE:-/var/cache/spdk-node-vm}
prefix=${SPDK_NODE_PREFIX:-/usr/local}
mirror=${SPDK_NODE_VM_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
# What SPDK's fat library and node need at run time, plus the tools the rig's tests use.
packages=openssl,kmod,util-linux,procps,pciutils,libnuma1,libssl3,libuuid1,libaio1,liburing2,libkeyutils1,libjson-c5,libfuse3-3,libncurses6,libstdc++6,libgcc-s1
kernel_meta=linux-image-cloud-amd64

say() { echo "vm-image: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and device nodes need it)"
for tool in debootstrap mkfs.ext4 sfdisk apt-get dpkg; do
	command -v $tool >/dev/null || die "$tool is missing: scripts/pkgdep.sh installs it (apt-get install debootstrap e2fsprogs fdisk)"
done

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# --- 1. Kernel: the newest linux-image-*-cloud-amd64, unpacked (vmlinuz and its modules) ---------
kernel_pkg=$(apt-cache depends "$kernel_meta" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
if [ -z "$kernel_pkg" ]; then
	apt-get update >/dev/null
	kernel_pkg=$(apt-cache depends "$kernel_meta" | awk '/Depends: linux-image-/ {print $2; exit}')
fi
[ -n "$kernel_pkg" ] || die "cannot resolve $kernel_meta to a kernel package"
kernel_dir=$cache/kernel-$kernel_pkg
if [ ! -e "$kernel_dir/.done" ]; then
	say "downloading $kernel_pkg"
	rm -rf "$kernel_dir" && mkdir -p "$kernel_dir/deb"
	(cd "$kernel_dir/deb" && apt-get download "$kernel_pkg" >/dev/null 2>&1) || die "apt-get download $kernel_pkg failed"
	dpkg -x "$kernel_dir"/deb/*.deb "$kernel_dir/root"
	rm -rf "$kernel_dir/deb"
	touch "$kernel_dir/.done"
fi
kernel_release=$(ls "$kernel_dir/root/lib/modules")
vmlinuz=$kernel_dir/root/boot/vmlinuz-$kernel_release

# --- 2. The debootstrap root, once per package list ------------------------------------------------
base_key=$(echo "$suite $mirror $packages $kernel_release v1" | sha256sum | cut -c1-16)
base=$cache/base-$base_key
if [ ! -e "$base/.done" ]; then
	say "debootstrap $suite (minbase + $packages) into $base: a few minutes, once"
	rm -rf "$base"
	debootstrap --variant=minbase --include="$packages" "$suite" "$base" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
		die "debootstrap failed; see $cache/debootstrap.log"
	cp -a "$kernel_dir/root/lib/modules" "$base/lib/"
	chroot "$base" depmod -a "$kernel_release"
	rm -rf "$base"/var/cache/apt/archives/*.deb "$base"/var/lib/apt/lists/*
	touch "$base/.done"
fi

[ "${1:-}" = --base-only ] && { echo "$base"; exit 0; }
library=$prefix/lib/libspdk_fat.so
[ -e "$library" ] || die "$library is not installed: run ./build.sh first"
addon=$project/build/Release/spdk_node.node
[ -e "$addon" ] || die "$addon is missing: run npm run build:native (or npm ci)"
[ -e "$project/lib/index.js" ] || die "lib/ is missing: run npm run build:ts"

# --- 3. The payload: node, the library and SPDK's tools, the package, the rig's guest side ---------
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
install -D -m 0755 "$(command -v node)" "$payload/usr/local/bin/node"
mkdir -p "$payload/usr/local/lib" "$payload/usr/local/libexec"
cp -a "$prefix"/lib/libspdk_fat.so* "$payload/usr/local/lib/"
[ -e "$prefix/lib/libspdk_fat.json" ] && cp "$prefix/lib/libspdk_fat.json" "$payload/usr/local/lib/"
[ -d "$prefix/libexec/spdk-node" ] && cp -a "$prefix/libexec/spdk-node" "$payload/usr/local/libexec/"
pkg=$payload/opt/spdk-node
mkdir -p "$pkg/build/Release" "$pkg/node_modules"
cp -a "$project/package.json" "$project/lib" "$pkg/"
cp "$addon" "$pkg/build/Release/"
# The package's run-time dependencies (bindings and what it requires), as npm installed them here.
for dep in bindings file-uri-to-path; do
	[ -d "$project/node_modules/$dep" ] && cp -a "$project/node_modules/$dep" "$pkg/node_modules/"
done
mkdir -p "$payload/opt/node_modules" && ln -s ../spdk-node "$payload/opt/node_modules/spdk-node"
cp -a "$project/test/vm/guest" "$payload/opt/spdk-node-vm"
# The bench's loops and its spdk_nvme_perf runner, for the PCIe rows (test/vm/guest/nvme-bench.js).
mkdir -p "$payload/opt/spdk-node-vm/bench"
cp "$project"/scripts/bench/{loops,stats,nvmf}.js "$payload/opt/spdk-node-vm/bench/"
install -D -m 0755 "$project/scripts/vm/init.sh" "$payload/usr/sbin/spdk-node-vm-init"

payload_key=$( (echo "$base_key"; cd "$payload" && find . -type f -print0 | sort -z | xargs -0 sha256sum; find . -type l -printf '%p -> %l\n' | sort) | sha256sum | cut -c1-16)
image_dir=$cache/image-$payload_key
if [ -e "$image_dir/.done" ]; then
	say "reusing $image_dir (nothing changed)"
else
	say "composing $image_dir"
	rm -rf "$cache"/image-* # one image at a time: they are 2 GiB each
	mkdir -p "$image_dir"
	staging=$image_dir/root
	cp -a "$base/." "$staging/"
	rm -f "$staging/.done"
	cp -a "$payload/." "$staging/"
	echo spdk-node-vm >"$staging/etc/hostname"
	chroot "$staging" ldconfig
	# A partitioned disk, so the kernel finds its root by PARTUUID with no initramfs.
	disk=$image_dir/root.img
	size_mb=$(( $(du -sm "$staging" | cut -f1) + 1024 ))
	truncate -s "${size_mb}M" "$disk"
	disk_id=$(printf '%08x' $(( 0x$(echo "$payload_key" | cut -c1-8) | 1 )))
	printf 'label: dos\nlabel-id: 0x%s\nstart=2048, type=83\n' "$disk_id" | sfdisk -q "$disk"
	mkfs.ext4 -q -F -L spdk-node-vm -d "$staging" -E offset=$((2048 * 512)) "$disk" $(( (size_mb - 1) * 1024 ))k
	rm -rf "$staging"
	cp "$vmlinuz" "$image_dir/vmlinuz"
	printf 'root_partuuid=%s-01\nkernel_release=%s\n' "$disk_id" "$kernel_release" >"$image_dir/image.env"
	touch "$image_dir/.done"
fi
echo "$image_dir"
