#!/usr/bin/env bash
# build.sh: build SPDK (with its DPDK and ISA-L) and link every static archive into one
# libspdk_fat.so, then install and verify it. Nothing else.
#
# Why one fat library: SPDK's bdev modules, transports and subsystems register themselves from
# constructors, so a normal link drops every module nobody references by name. Linking each
# archive with --whole-archive keeps them all, and the addon links this one library.
set -Eeuo pipefail

readonly SPDK_NODE_BUILDER="spdk-node build.sh 0.1.0"
readonly HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
	cat <<'EOF'
Usage: ./build.sh [options]

Builds SPDK, links all of its static archives (SPDK, DPDK, ISA-L) into libspdk_fat.so,
installs the library, SPDK's headers, spdk_fat.pc and a manifest, and verifies the result.

Options:
  --spdk-dir DIR        SPDK source tree (default: $SPDK_DIR, else ./spdk, the git submodule)
  --prefix DIR          install prefix (default: $PREFIX, else /usr/local)
  --jobs N              parallel build jobs (default: number of cores)
  --target-arch ARCH    compiler -march baseline (default: x86-64-v2, portable across x86_64
                        hosts of the last ~12 years; "native" for this host only)
  --debug               debug build of SPDK (assertions, no optimisation)
  --configure-arg ARG   extra argument for SPDK's ./configure (repeatable)
  --without-subsystem NAME
                        leave an SPDK event subsystem (and its library) out of the fat library
                        (repeatable): iscsi, vhost_blk, vhost_scsi, scsi, nbd, fsdev. Every
                        subsystem linked in starts with SPDK, takes memory and may poll; the
                        iSCSI target polls even in interrupt mode.
  --lean                leave out what a Node program driving bdevs, NVMe and NVMe-oF does not
                        use: iscsi vhost_blk vhost_scsi scsi nbd. Idles in interrupt mode and
                        starts in less memory. Default: every subsystem.
  --no-install          build and link only; verify the library in the build tree
  -h, --help            this text

Environment: SPDK_DIR, PREFIX, JOBS. A log of the whole build is written next to the fat
library in the SPDK tree (build/fat/build.log); failures print its tail.
EOF
}

die() { # die CODE MESSAGE...
	local code=$1
	shift
	printf 'build.sh: error: %s\n' "$*" >&2
	exit "$code"
}
step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }

spdk_dir=${SPDK_DIR:-}
prefix=${PREFIX:-/usr/local}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
target_arch=x86-64-v2
debug=0
install=1
extra_configure=()
without_subsystems=()

while [ $# -gt 0 ]; do
	case $1 in
	--spdk-dir) spdk_dir=${2:?--spdk-dir needs a directory}; shift 2 ;;
	--spdk-dir=*) spdk_dir=${1#*=}; shift ;;
	--prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--jobs|-j) jobs=${2:?--jobs needs a number}; shift 2 ;;
	--jobs=*) jobs=${1#*=}; shift ;;
	--target-arch) target_arch=${2:?--target-arch needs an architecture}; shift 2 ;;
	--target-arch=*) target_arch=${1#*=}; shift ;;
	--debug) debug=1; shift ;;
	--configure-arg) extra_configure+=("${2:?--configure-arg needs an argument}"); shift 2 ;;
	--configure-arg=*) extra_configure+=("${1#*=}"); shift ;;
	--without-subsystem) without_subsystems+=("${2:?--without-subsystem needs a name}"); shift 2 ;;
	--without-subsystem=*) without_subsystems+=("${1#*=}"); shift ;;
	--lean) without_subsystems+=(iscsi vhost_blk vhost_scsi scsi nbd); shift ;;
	--no-install) install=0; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die 2 "unknown option '$1'" ;;
	esac
done

[[ $jobs =~ ^[1-9][0-9]*$ ]] || die 2 "--jobs must be a positive whole number, not '$jobs'"
[ "$(uname -m)" = x86_64 ] || die 2 "libspdk_fat.so is built for x86_64; this machine is $(uname -m)"

# --- 1. The source tree: answer at once when there is none ---------------------------------
if [ -z "$spdk_dir" ]; then
	spdk_dir=$HERE/spdk
fi
# (SPDK generates include/spdk/version.h from version.h.in during make: a fresh checkout has only
# the .in file.)
if [ ! -x "$spdk_dir/configure" ] || { [ ! -f "$spdk_dir/include/spdk/version.h" ] && [ ! -f "$spdk_dir/include/spdk/version.h.in" ]; }; then
	if [ -e "$HERE/.git" ]; then
		cat >&2 <<EOF
build.sh: error: no SPDK source tree at '$spdk_dir'.
Get the sources in one of two ways:
  git submodule update --init --recursive      # the pinned SPDK v26.01 in ./spdk
  SPDK_DIR=/path/to/spdk ./build.sh             # an SPDK tree of your own (or --spdk-dir DIR)
EOF
	else
		# Installed from npm (or unpacked): there is no submodule, so SPDK's own repository.
		cat >&2 <<EOF
build.sh: error: no SPDK source tree at '$spdk_dir'.
Get SPDK v26.01's sources and point build.sh at them:
  git clone --depth 1 --branch v26.01 --recurse-submodules --shallow-submodules https://github.com/spdk/spdk.git
  sudo $0 --spdk-dir spdk
EOF
	fi
	exit 2
fi
spdk_dir=$(cd "$spdk_dir" && pwd)
for sub in dpdk isa-l isa-l-crypto; do
	if [ ! -e "$spdk_dir/$sub/meson.build" ] && [ ! -e "$spdk_dir/$sub/configure.ac" ]; then
		die 2 "'$spdk_dir/$sub' is empty: run 'git -C $spdk_dir submodule update --init' (SPDK's own submodules)"
	fi
done

fat_dir=$spdk_dir/build/fat
mkdir -p "$fat_dir"
log=$fat_dir/build.log
: >"$log"

on_error() {
	local rc=$?
	# The trap is inherited by subshells (set -E); report once, from the top level.
	[ "$BASH_SUBSHELL" = 0 ] || exit "$rc"
	printf '\nbuild.sh: error: the %s step failed (exit %s). Last lines of %s:\n' "${current_step:-build}" "$rc" "$log" >&2
	tail -n 25 "$log" >&2 || true
	exit "$rc"
}
trap on_error ERR
current_step=prerequisites

# --- 2. Prerequisites, all checked before the long build ----------------------------------
# Each entry: a test, what is missing, the Debian/Ubuntu package, the Fedora/RHEL package.
missing=()
need() { # need DESCRIPTION DEB_PKG RPM_PKG
	missing+=("$1 (Debian/Ubuntu: $2; Fedora/RHEL: $3)")
}
has_header() { # has_header HEADER [CFLAGS]
	printf '#include <%s>\nint main(void){return 0;}\n' "$1" | cc ${2:-} -x c -fsyntax-only - >/dev/null 2>&1
}
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

command -v cc >/dev/null 2>&1 || need "a C compiler (cc)" gcc gcc
command -v c++ >/dev/null 2>&1 || need "a C++ compiler (c++)" g++ gcc-c++
command -v make >/dev/null 2>&1 || need make make make
command -v meson >/dev/null 2>&1 || need meson meson meson
command -v ninja >/dev/null 2>&1 || need ninja ninja-build ninja-build
command -v pkg-config >/dev/null 2>&1 || need pkg-config pkg-config pkgconf-pkg-config
command -v autoreconf >/dev/null 2>&1 || need "autoconf/automake" "autoconf automake" "autoconf automake"
command -v libtoolize >/dev/null 2>&1 || need libtool libtool libtool
if command -v nasm >/dev/null 2>&1; then
	nasm_version=$(nasm -v | awk '{print $3}')
	version_ge "$nasm_version" 2.14 || need "nasm >= 2.14 (found $nasm_version)" nasm nasm
else
	need "nasm >= 2.14" nasm nasm
fi
# DPDK's meson scripts import elftools. A pyenv or venv python3 first in PATH often lacks it
# while the system one has it: prefer whichever python3 has it.
if ! python3 -c 'import elftools' >/dev/null 2>&1; then
	if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import elftools' >/dev/null 2>&1; then
		export PATH=/usr/bin:$PATH
		note "using /usr/bin/python3 (it has elftools; the python3 first in PATH does not)"
	else
		need "python3 with the elftools module" python3-pyelftools python3-pyelftools
	fi
fi
if command -v cc >/dev/null 2>&1; then
	has_header numa.h || need "NUMA headers (numa.h)" libnuma-dev numactl-devel
	has_header openssl/ssl.h || need "OpenSSL headers" libssl-dev openssl-devel
	has_header uuid/uuid.h || need "libuuid headers" uuid-dev libuuid-devel
	has_header libaio.h || need "libaio headers" libaio-dev libaio-devel
	has_header liburing.h || need "liburing headers" liburing-dev liburing-devel
	has_header keyutils.h || need "keyutils headers" libkeyutils-dev keyutils-libs-devel
	has_header ncurses.h || need "ncurses headers" libncurses-dev ncurses-devel
	has_header fuse3/fuse_opt.h || need "FUSE 3 headers" libfuse3-dev fuse3-devel
fi
if [ ${#missing[@]} -gt 0 ]; then
	{
		echo "build.sh: error: missing prerequisites:"
		printf '  - %s\n' "${missing[@]}"
		echo "Install them all with: sudo $HERE/scripts/pkgdep.sh"
	} >&2
	exit 3
fi

# --- 3. Configure (only when the arguments changed) ---------------------------------------
configure_args=("--target-arch=$target_arch" --disable-tests --disable-unit-tests --with-uring)
[ $debug = 1 ] && configure_args+=(--enable-debug)
configure_args+=("${extra_configure[@]}")

current_step=configure
stamp=$fat_dir/configure.args
if [ -f "$spdk_dir/mk/config.mk" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${configure_args[*]}" ]; then
	step "configure: unchanged (${configure_args[*]})"
else
	step "configure: ${configure_args[*]}"
	(cd "$spdk_dir" && ./configure "${configure_args[@]}") >>"$log" 2>&1
	printf '%s' "${configure_args[*]}" >"$stamp"
fi

# --- 4. Build SPDK, DPDK, ISA-L ------------------------------------------------------------
current_step="make (SPDK, DPDK, ISA-L)"
step "make -j$jobs (about 20 minutes on 2 cores the first time; log: $log)"
started=$SECONDS
make -C "$spdk_dir" -j"$jobs" >>"$log" 2>&1 &
make_pid=$!
while kill -0 "$make_pid" 2>/dev/null; do
	sleep 30
	kill -0 "$make_pid" 2>/dev/null || break
	last=$(grep -E '^\s*(CC|CXX|LIB|LINK|SO)\s|^\[[0-9]+/[0-9]+\]' "$log" | tail -n1 | tr -s ' ' | cut -c1-70 || true)
	note "$((SECONDS - started))s: ${last:-working}"
done
wait "$make_pid"
note "make finished in $((SECONDS - started))s"

# --- 5. Link the fat library ---------------------------------------------------------------
current_step="link libspdk_fat.so"
spdk_major=$(awk '$1 == "#define" && $2 == "SPDK_VERSION_MAJOR" {print $3}' "$spdk_dir/include/spdk/version.h")
spdk_minor=$(awk '$1 == "#define" && $2 == "SPDK_VERSION_MINOR" {print $3}' "$spdk_dir/include/spdk/version.h")
spdk_patch=$(awk '$1 == "#define" && $2 == "SPDK_VERSION_PATCH" {print $3}' "$spdk_dir/include/spdk/version.h")
spdk_version=$(printf 'v%d.%02d' "$spdk_major" "$spdk_minor")
[ "$spdk_patch" != 0 ] && spdk_version+=".$spdk_patch"
soname=libspdk_fat.so.${spdk_version#v}
fat_lib=$fat_dir/$soname

# Every archive SPDK built, minus unit-test mocks, minus the subsystems left out on request.
excluded_re='^libspdk_(ut|ut_mock)\.a$'
without_vhost=0
for name in "${without_subsystems[@]}"; do
	[[ $name =~ ^[a-z0-9_]+$ ]] || die 2 "--without-subsystem: '$name' is not a subsystem name"
	[ -f "$spdk_dir/build/lib/libspdk_event_$name.a" ] ||
		die 2 "--without-subsystem: there is no subsystem '$name' (no libspdk_event_$name.a)"
	excluded_re+="|^libspdk_(event_)?$name\.a$"
	case $name in vhost_blk|vhost_scsi) without_vhost=$((without_vhost + 1)) ;; esac
done
# Both vhost subsystems share one library, which goes only when both do.
[ $without_vhost = 2 ] && excluded_re+='|^libspdk_vhost\.a$'
archives=()
while IFS= read -r a; do
	[[ $(basename "$a") =~ $excluded_re ]] || archives+=("$a")
done < <(ls "$spdk_dir"/build/lib/libspdk_*.a "$spdk_dir"/dpdk/build/lib/librte_*.a \
	"$spdk_dir"/isa-l/.libs/libisal.a "$spdk_dir"/isa-l-crypto/.libs/libisal_crypto.a 2>/dev/null | sort)
[ ${#archives[@]} -gt 50 ] || die 1 "found only ${#archives[@]} static archives under $spdk_dir/build/lib: did make succeed?"

# System libraries as SPDK itself computes them for static linking.
syslibs=$(PKG_CONFIG_PATH=$spdk_dir/build/lib/pkgconfig pkg-config --libs --static spdk_syslibs)

# Our own object: the version the library reports at run time, so that a loader can compare
# it with what an addon was compiled against before it trusts the pair.
link_inputs_changed=0
link_args_file=$fat_dir/link.args
link_args="${archives[*]} $syslibs $debug"
if [ ! -f "$fat_lib" ] || [ ! -f "$link_args_file" ] || [ "$(cat "$link_args_file")" != "$link_args" ]; then
	link_inputs_changed=1
else
	for a in "${archives[@]}"; do
		[ "$a" -nt "$fat_lib" ] && { link_inputs_changed=1; break; }
	done
fi
if [ $link_inputs_changed = 1 ]; then
	step "link $soname from ${#archives[@]} archives"
	cc -O2 -fPIC -I"$spdk_dir/include" -c "$HERE/scripts/fat/version.c" -o "$fat_dir/version.o" >>"$log" 2>&1
	strip_flag=-s
	[ $debug = 1 ] && strip_flag=
	# shellcheck disable=SC2086 # syslibs is a list of linker flags
	cc -shared -o "$fat_lib.tmp" -Wl,-soname,"$soname" -Wl,--no-undefined -Wl,-z,noexecstack \
		$strip_flag "$fat_dir/version.o" \
		-Wl,--whole-archive "${archives[@]}" -Wl,--no-whole-archive \
		$syslibs -lstdc++ >>"$log" 2>&1
	mv -f "$fat_lib.tmp" "$fat_lib"
	printf '%s' "$link_args" >"$link_args_file"
else
	step "link: $soname is up to date"
fi
note "$(du -h "$fat_lib" | cut -f1) $fat_lib"

# --- 6. Manifest -----------------------------------------------------------------------------
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
json_list() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"; }
spdk_commit=$(git -C "$spdk_dir" rev-parse HEAD 2>/dev/null || echo unknown)
dpdk_version=$(cat "$spdk_dir/dpdk/VERSION")
ac_version() { sed -n '/AC_INIT/,/)/p' "$1" | tr -d '\n[] ' | cut -d, -f2; }
isal_version=$(ac_version "$spdk_dir/isa-l/configure.ac")
isal_crypto_version=$(ac_version "$spdk_dir/isa-l-crypto/configure.ac")
archive_names=()
for a in "${archives[@]}"; do archive_names+=("$(basename "$a")"); done
manifest=$fat_dir/libspdk_fat.json
cat >"$manifest" <<EOF
{
  "name": "libspdk_fat",
  "spdkVersion": $(json_str "$spdk_version"),
  "spdkVersionString": $(json_str "SPDK $spdk_version"),
  "spdkCommit": $(json_str "$spdk_commit"),
  "dpdkVersion": $(json_str "$dpdk_version"),
  "isalVersion": $(json_str "$isal_version"),
  "isalCryptoVersion": $(json_str "$isal_crypto_version"),
  "targetArch": $(json_str "$target_arch"),
  "debug": $([ $debug = 1 ] && echo true || echo false),
  "configureArgs": $(json_list "${configure_args[@]}"),
  "withoutSubsystems": $(json_list "${without_subsystems[@]}"),
  "archives": $(json_list "${archive_names[@]}"),
  "soname": $(json_str "$soname"),
  "buildDate": $(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)"),
  "builder": $(json_str "$SPDK_NODE_BUILDER")
}
EOF

# --- 7. Install ------------------------------------------------------------------------------
if [ $install = 1 ]; then
	current_step="install into $prefix"
	step "install into $prefix"
	libdir=$prefix/lib
	install -d "$libdir" "$libdir/pkgconfig" "$prefix/include/spdk" "$prefix/libexec/spdk-node"
	install -m 0755 "$fat_lib" "$libdir/$soname"
	ln -sfn "$soname" "$libdir/libspdk_fat.so"
	install -m 0644 "$manifest" "$libdir/libspdk_fat.json"
	install -m 0644 "$spdk_dir"/include/spdk/*.h "$prefix/include/spdk/"
	cat >"$libdir/pkgconfig/spdk_fat.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: spdk_fat
Description: SPDK $spdk_version with DPDK $dpdk_version and ISA-L, all modules, as one shared library
Version: ${spdk_version#v}
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lspdk_fat
Cflags: -I\${includedir}
EOF
	# SPDK's own tools, statically linked, for the benchmarks and for tests that need a separate
	# SPDK process.
	for tool in build/bin/spdk_tgt build/bin/spdk_nvme_perf build/examples/bdevperf; do
		[ -x "$spdk_dir/$tool" ] && install -m 0755 "$spdk_dir/$tool" "$prefix/libexec/spdk-node/"
	done
	command -v ldconfig >/dev/null 2>&1 && ldconfig
	installed_lib=$libdir/$soname
	include_dir=$prefix/include
else
	installed_lib=$fat_lib
	include_dir=$spdk_dir/include
fi

# --- 8. Verify what was installed ------------------------------------------------------------
current_step="verify"
step "verify $installed_lib"
if ldd "$installed_lib" | grep -q 'not found'; then
	ldd "$installed_lib" | grep 'not found' >&2
	die 1 "libspdk_fat.so has unresolved library dependencies"
fi
missing_symbols=()
exported=$(nm -D --defined-only "$installed_lib" | awk '{print $3}')
for sym in spdk_app_start spdk_app_opts_init spdk_env_init spdk_thread_send_msg spdk_bdev_open_ext \
	spdk_bdev_read spdk_nvme_connect spdk_nvme_ctrlr_cmd_admin_raw spdk_nvmf_tgt_create \
	spdk_jsonrpc_server_listen rte_eal_init isal_zero_detect spdk_fat_version_string; do
	grep -qx "$sym" <<<"$exported" || missing_symbols+=("$sym")
done
[ ${#missing_symbols[@]} -eq 0 ] || die 1 "libspdk_fat.so does not export: ${missing_symbols[*]}"
note "exports $(wc -l <<<"$exported") symbols, including the required ones"

smoke=$fat_dir/smoke
cc -O1 -I"$include_dir" "$HERE/scripts/fat/smoke.c" -o "$smoke" \
	-L"$(dirname "$installed_lib")" -Wl,-rpath,"$(dirname "$installed_lib")" -l:"$(basename "$installed_lib")" >>"$log" 2>&1
if ! smoke_out=$("$smoke" 2>&1); then
	printf '%s\n' "$smoke_out" >&2
	die 1 "the smoke program linked against $installed_lib could not initialise SPDK's environment"
fi
note "smoke program: $(tail -n1 <<<"$smoke_out")"
step "done: SPDK $spdk_version ($soname) in $(dirname "$installed_lib")"
