#!/usr/bin/env bash
# make-base-image.sh: makes, on a machine with no container registry, the two images the
# Dockerfile starts from, so that it can be built here with nothing changed but its build args:
#
#   localhost/debian:bookworm-slim    Debian 12, debootstrap's minbase variant, trimmed the way
#                                     the official debian:bookworm-slim is (no docs, man pages,
#                                     locales), apt pointed at the mirror this machine uses
#   localhost/node:20-bookworm-slim   that, plus this machine's Node.js (the node binary and npm),
#                                     laid out as the official node image lays it out
#                                     (/usr/local/bin/node, /usr/local/lib/node_modules/npm)
#
# Both trust the certificate authorities this machine added to its own (the .crt files in
# /usr/local/share/ca-certificates, e.g. a TLS-intercepting egress proxy's), so that npm reaches
# the registry from inside the build as it does here: apt, update-ca-certificates and Node
# (NODE_EXTRA_CA_CERTS) all pick them up. --no-host-cas leaves them out.
#
# Then: podman build --build-arg BASE_IMAGE=localhost/debian:bookworm-slim \
#                    --build-arg NODE_IMAGE=localhost/node:20-bookworm-slim ...
# (scripts/verify-image.sh does that). Idempotent: an image that exists is kept unless --force.
# Run as root (debootstrap and podman's root storage need it).
set -Eeuo pipefail

usage() {
	cat <<'EOF'
Usage: sudo scripts/make-base-image.sh [options]

Options:
  --mirror URL      Debian mirror (default: $MIRROR, else the first Debian mirror in this
                    machine's apt sources, else http://deb.debian.org/debian)
  --base-tag TAG    default: localhost/debian:bookworm-slim
  --node-tag TAG    default: localhost/node:20-bookworm-slim
  --node PATH       the node binary to copy (default: $(command -v node)); must be >= 20.17
  --extra-ca FILE   trust this CA certificate (PEM) in the images too (repeatable; default:
                    /usr/local/share/ca-certificates/*.crt)
  --no-host-cas     trust only Debian's CAs
  --force           remake images that exist already
  -h, --help        this text

Environment: MIRROR, BASE_TAG, NODE_TAG, PODMAN (default: podman), PODMAN_FLAGS (flags for
podman run/build; default: found by trying, e.g. "--runtime runc" where crun cannot run).
EOF
}

die() { printf 'make-base-image.sh: error: %s\n' "$*" >&2; exit 1; }
step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }

suite=bookworm
mirror=${MIRROR:-}
base_tag=${BASE_TAG:-localhost/debian:bookworm-slim}
node_tag=${NODE_TAG:-localhost/node:20-bookworm-slim}
node_bin=$(command -v node || true)
podman=${PODMAN:-podman}
force=0
extra_cas=()
host_cas=1

while [ $# -gt 0 ]; do
	case $1 in
	--mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
	--base-tag) base_tag=${2:?--base-tag needs a tag}; shift 2 ;;
	--node-tag) node_tag=${2:?--node-tag needs a tag}; shift 2 ;;
	--node) node_bin=${2:?--node needs a path}; shift 2 ;;
	--extra-ca) extra_cas+=("${2:?--extra-ca needs a file}"); shift 2 ;;
	--no-host-cas) host_cas=0; shift ;;
	--force) force=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
done

[ "$(id -u)" = 0 ] || die "run as root: sudo $0"
for tool in debootstrap "$podman" tar; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (Debian: apt-get install debootstrap podman)"
done

# The Debian mirror and security mirror apt already uses here: the one known to be reachable.
apt_uris() { # apt_uris: every URI in the apt sources, one-line and deb822 formats
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
	cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }'
}
if [ -z "$mirror" ]; then
	mirror=$(apt_uris | grep -E '/debian/?$' | head -n1 || true)
	mirror=${mirror:-http://deb.debian.org/debian}
fi
mirror=${mirror%/}
security_mirror=$(apt_uris | grep -E '/debian-security/?$' | head -n1 || true)
security_mirror=${security_mirror:-http://deb.debian.org/debian-security}
security_mirror=${security_mirror%/}

if [ $host_cas = 1 ] && [ ${#extra_cas[@]} = 0 ]; then
	for ca in /usr/local/share/ca-certificates/*.crt; do
		[ -f "$ca" ] && extra_cas+=("$ca")
	done
fi
for ca in "${extra_cas[@]}"; do
	grep -q 'BEGIN CERTIFICATE' "$ca" 2>/dev/null || die "--extra-ca $ca: not a PEM certificate"
done

image_exists() { "$podman" image exists "$1"; }

# podman flags for this host: find_podman_flags IMAGE sets podman_flags (scripts/podman-flags.sh).
. "$(dirname "${BASH_SOURCE[0]}")/podman-flags.sh"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/spdk-node-base.XXXXXX")
cleanup() { rm -rf --one-file-system "$work"; }
trap cleanup EXIT

# --- 1. Debian bookworm, slim -------------------------------------------------------------------
if image_exists "$base_tag" && [ $force = 0 ]; then
	step "$base_tag exists already (--force to remake it)"
else
	step "debootstrap --variant=minbase $suite from $mirror (a few minutes)"
	rootfs=$work/rootfs
	debootstrap --variant=minbase --arch=amd64 "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

	# What the official slim image does: keep dpkg from installing docs, man pages and locales,
	# clean apt's caches after every install, and keep services from starting in a container.
	cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
	find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
	find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda}/*
	find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
	cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
	echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
	printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
	chmod 0755 "$rootfs/usr/sbin/policy-rc.d"

	# This machine's own CAs: as .crt files for update-ca-certificates (which runs when a later
	# image installs ca-certificates), and as one bundle for Node, which reads no system store.
	import_changes=(--change 'CMD ["bash"]')
	if [ ${#extra_cas[@]} -gt 0 ]; then
		note "trusting this machine's extra CAs: ${extra_cas[*]}"
		install -d "$rootfs/usr/local/share/ca-certificates"
		for ca in "${extra_cas[@]}"; do
			install -m 0644 "$ca" "$rootfs/usr/local/share/ca-certificates/$(basename "${ca%.*}").crt"
		done
		cat "${extra_cas[@]}" >"$rootfs/usr/local/share/ca-certificates/extra-ca-bundle.pem"
		import_changes+=(--change "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/extra-ca-bundle.pem")
	fi

	rm -f "$rootfs/etc/apt/sources.list"
	cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
		"$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/root/.bash_history
	: >"$rootfs/etc/machine-id"
	: >"$rootfs/etc/resolv.conf"
	echo localhost >"$rootfs/etc/hostname"

	step "import as $base_tag"
	tar --numeric-owner --xattrs -C "$rootfs" -c . |
		"$podman" import --quiet "${import_changes[@]}" --message "debootstrap --variant=minbase $suite $mirror" - "$base_tag" >/dev/null
	rm -rf --one-file-system "$rootfs"
fi
find_podman_flags "$base_tag"
note "$base_tag: $("$podman" image inspect --format '{{.Size}}' "$base_tag" | numfmt --to=iec), Debian $("$podman" run --rm --network none "${podman_flags[@]}" "$base_tag" cat /etc/debian_version)"

# --- 2. Node.js on top, from this machine ----------------------------------------------------------
[ -n "$node_bin" ] && [ -x "$node_bin" ] || die "no node binary to copy (install Node.js >= 20.17 or pass --node PATH)"
node_bin=$(readlink -f "$node_bin")
node_version=$("$node_bin" --version)
node_major=${node_version#v}; node_major=${node_major%%.*}
node_minor=${node_version#v*.}; node_minor=${node_minor%%.*}
if [ "$node_major" -lt 20 ] || { [ "$node_major" = 20 ] && [ "$node_minor" -lt 17 ]; }; then
	die "$node_bin is Node.js $node_version; spdk-node needs >= 20.17"
fi
npm_dir=$(dirname "$node_bin")/../lib/node_modules/npm
[ -f "$npm_dir/bin/npm-cli.js" ] || npm_dir=$(npm root -g 2>/dev/null)/npm
[ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found beside $node_bin nor in 'npm root -g'"
npm_dir=$(readlink -f "$npm_dir")

if image_exists "$node_tag" && [ $force = 0 ]; then
	step "$node_tag exists already (--force to remake it)"
else
	step "make $node_tag: $base_tag + node $node_version ($node_bin) + npm $(node "$npm_dir/bin/npm-cli.js" --version 2>/dev/null) ($npm_dir)"
	ctx=$work/node
	mkdir -p "$ctx/usr/local/bin" "$ctx/usr/local/lib/node_modules"
	cp -a "$node_bin" "$ctx/usr/local/bin/node"
	cp -a "$npm_dir" "$ctx/usr/local/lib/node_modules/npm"
	ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr/local/bin/npm"
	ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr/local/bin/npx"
	cat >"$ctx/Containerfile" <<EOF
FROM $base_tag
COPY usr/ /usr/
ENV NODE_VERSION=${node_version#v}
RUN node --version && npm --version
CMD ["node"]
EOF
	"$podman" build --network none "${podman_flags[@]}" --tag "$node_tag" --file "$ctx/Containerfile" "$ctx" >"$work/node-build.log" 2>&1 ||
		{ tail -n 20 "$work/node-build.log" >&2; die "building $node_tag failed (log above)"; }
fi
note "$node_tag: $("$podman" image inspect --format '{{.Size}}' "$node_tag" | numfmt --to=iec) node $("$podman" run --rm --network none "${podman_flags[@]}" "$node_tag" node --version)"
step "done; build with: --build-arg BASE_IMAGE=$base_tag --build-arg NODE_IMAGE=$node_tag"
