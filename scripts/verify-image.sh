#!/usr/bin/env bash
# verify-image.sh: builds the Dockerfile with podman on this machine and runs the image: the
# doctor, then `spdk-node demo` (SPDK started in the container, verified I/O on a malloc bdev) as
# root and as the image's non-root user, with hugepages and without, with no capabilities.
#
# The build context is a temporary copy of this repository whose spdk/ holds the sources (no build
# outputs) of an SPDK tree given here, so that the repository itself is never touched. The images
# the Dockerfile starts from are its build args, made by scripts/make-base-image.sh on a machine
# with no registry; nothing else is changed. Run as root.
set -Eeuo pipefail

readonly HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
	cat <<'EOF'
Usage: sudo scripts/verify-image.sh [options]

Options:
  --spdk-dir DIR      SPDK source tree with its submodules (default: $SPDK_DIR, else ./spdk)
  --base-image IMAGE  BASE_IMAGE build arg (default: localhost/debian:bookworm-slim)
  --node-image IMAGE  NODE_IMAGE build arg (default: localhost/node:20-bookworm-slim)
  --tag TAG           the image built (default: localhost/spdk-node:verify)
  --no-build          run an image built before
  --no-run            build only
  --keep-context      keep the temporary build context (its path is printed)
  -h, --help          this text

Environment: SPDK_DIR, PODMAN (default: podman), PODMAN_FLAGS (flags for podman run/build;
default: found by trying, e.g. "--runtime runc" where crun cannot run).
EOF
}

die() { printf 'verify-image.sh: error: %s\n' "$*" >&2; exit 1; }
step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }

spdk_dir=${SPDK_DIR:-$HERE/spdk}
base_image=localhost/debian:bookworm-slim
node_image=localhost/node:20-bookworm-slim
tag=localhost/spdk-node:verify
podman=${PODMAN:-podman}
build=1
run=1
keep_context=0

while [ $# -gt 0 ]; do
	case $1 in
	--spdk-dir) spdk_dir=${2:?--spdk-dir needs a directory}; shift 2 ;;
	--base-image) base_image=${2:?--base-image needs an image}; shift 2 ;;
	--node-image) node_image=${2:?--node-image needs an image}; shift 2 ;;
	--tag) tag=${2:?--tag needs a tag}; shift 2 ;;
	--no-build) build=0; shift ;;
	--no-run) run=0; shift ;;
	--keep-context) keep_context=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
done

[ "$(id -u)" = 0 ] || die "run as root: sudo $0"
command -v "$podman" >/dev/null 2>&1 || die "'$podman' is not installed (Debian: apt-get install podman runc)"

# podman flags for this host: find_podman_flags IMAGE sets podman_flags (scripts/podman-flags.sh).
. "$(dirname "${BASH_SOURCE[0]}")/podman-flags.sh"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/spdk-node-verify.XXXXXX")
cleanup() {
	if [ $keep_context = 1 ]; then
		note "kept: $work"
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT

# --- 1. The build context ----------------------------------------------------------------------------
# copy_listed SRC DEST: copies the paths named on stdin (NUL-separated, relative to SRC). Directories
# are not descended into (a submodule's gitlink becomes an empty directory); files listed by git but
# deleted from the work tree are skipped.
copy_listed() {
	tar -C "$1" --null --no-recursion --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$2" -xf -
}
# copy_git_sources SRC DEST: a git work tree's files as they are in it (tracked, and new files not
# ignored), then each populated submodule's the same way.
copy_git_sources() {
	local src=$1 dest=$2 sub
	mkdir -p "$dest"
	git -C "$src" ls-files -z --cached --others --exclude-standard | copy_listed "$src" "$dest"
	while IFS= read -r sub; do
		if [ -e "$src/$sub/.git" ]; then
			copy_git_sources "$src/$sub" "$dest/$sub"
		fi
	done < <(git -C "$src" ls-files -s | awk '$1 == "160000" { print $4 }')
}

if [ $build = 1 ]; then
	for image in "$base_image" "$node_image"; do
		"$podman" image exists "$image" || die "no image $image here: make it with scripts/make-base-image.sh"
	done
	[ -f "$spdk_dir/include/spdk/version.h.in" ] || [ -f "$spdk_dir/include/spdk/version.h" ] ||
		die "no SPDK source tree at '$spdk_dir': pass --spdk-dir DIR (or SPDK_DIR), or run 'git submodule update --init --recursive'"
	spdk_dir=$(cd "$spdk_dir" && pwd)
	ctx=$work/context
	mkdir -p "$ctx"
	step "build context: $HERE + SPDK sources from $spdk_dir -> $ctx"
	git -C "$HERE" ls-files -z --cached --others --exclude-standard |
		grep -zv -e '^spdk$' -e '^spdk/' | copy_listed "$HERE" "$ctx"
	rm -rf "$ctx/spdk"
	if git -C "$spdk_dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		copy_git_sources "$spdk_dir" "$ctx/spdk"
	else
		# Not a git tree (a release tarball, say): everything but what a build leaves behind.
		mkdir -p "$ctx/spdk"
		tar -C "$spdk_dir" -cf - --exclude-vcs --exclude=./build --exclude=./dpdk/build --exclude=./dpdk/build-tmp \
			--exclude='*.o' --exclude='*.lo' --exclude='*.la' --exclude='*.a' --exclude='*.so' --exclude='*.so.*' \
			--exclude='*.d' --exclude=.libs --exclude=.deps . | tar -C "$ctx/spdk" -xf -
	fi
	note "$(du -sh "$ctx" | cut -f1), $(find "$ctx" -type f | wc -l) files ($(find "$ctx/spdk" -type f | wc -l) of them SPDK's)"

	find_podman_flags "$base_image"
	step "podman build (SPDK takes about 20 minutes on 2 cores; log: $work/build.log)"
	log=$work/build.log
	started=$SECONDS
	set +e
	nice -n 10 "$podman" build "${podman_flags[@]}" \
		--build-arg BASE_IMAGE="$base_image" --build-arg NODE_IMAGE="$node_image" \
		--tag "$tag" --file "$ctx/Dockerfile" "$ctx" 2>&1 |
		tee "$log" | grep --line-buffered -E '^(STEP [0-9]+/[0-9]+|==> |    [0-9]+s: |build.sh: error|error)' | cut -c1-150
	status=${PIPESTATUS[0]}
	set -e
	if [ "$status" != 0 ]; then
		keep_context=1
		tail -n 30 "$log" >&2
		die "podman build failed (exit $status) after $((SECONDS - started))s; the log: $log"
	fi
	note "built $tag in $((SECONDS - started))s"
else
	find_podman_flags "$tag"
fi
note "$tag: $("$podman" image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec)"
[ $run = 1 ] || exit 0

# --- 2. Run it ---------------------------------------------------------------------------------------
run_in() { "$podman" run --rm "${podman_flags[@]}" "$@"; }
results=()
failed=0
check() { # check NAME COMMAND...: runs it, prints its output indented, records the outcome
	local name=$1 out status started=$SECONDS
	shift
	step "$name"
	printf '    $ %s\n' "$*"
	set +e
	out=$("$@" 2>&1)
	status=$?
	set -e
	printf '%s\n' "$out" | grep -v '^\s*at ' | tail -n 25 | sed 's/^/    | /'
	if [ $status = 0 ]; then
		results+=("ok      $name ($((SECONDS - started))s)")
	else
		results+=("FAILED  $name (exit $status)")
		failed=$((failed + 1))
	fi
}

check "the default command (spdk-node doctor)" run_in "$tag"

step "spdk-node doctor --json"
set +e
doctor_json=$(run_in "$tag" spdk-node doctor --json 2>/dev/null)
doctor_status=$?
set -e
summary=$(printf '%s' "$doctor_json" | node -e '
	let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
		const r = JSON.parse(s);
		const ids = (list) => (list ?? []).map((f) => f.id).join(", ") || "none";
		console.log(`ok: ${r.ok}; library: ${r.library?.path} (${r.library?.spdkVersion}); addon: ${r.addon?.path} (${r.addon?.spdkVersion})`);
		console.log(`problems: ${ids(r.problems)}; warnings: ${ids(r.warnings)}`);
	});' 2>&1) || summary="not JSON: $(printf '%s' "$doctor_json" | head -c 300)"
printf '%s\n' "$summary" | sed 's/^/    | /'
if [ $doctor_status = 0 ] && grep -q '^ok: true' <<<"$summary"; then
	results+=("ok      spdk-node doctor --json")
else
	results+=("FAILED  spdk-node doctor --json (exit $doctor_status)")
	failed=$((failed + 1))
fi

# The demo: SPDK started in the container with a malloc bdev, data written, read back, compared.
demo=(spdk-node demo)
spdk_uid=$(run_in "$tag" id -u spdk)
hugepages_free_mb=$(awk '/^HugePages_Free:/ {f=$2} /^Hugepagesize:/ {s=$2} END {print int(f*s/1024)}' /proc/meminfo)
host_hugetlbfs=$(awk '$3 == "hugetlbfs" {print $2; exit}' /proc/mounts)

if [ -n "$host_hugetlbfs" ] && [ "$hugepages_free_mb" -ge 1024 ]; then
	check "demo as root, hugepages (auto) from the host's $host_hugetlbfs, no capabilities at all" \
		run_in --cap-drop ALL -v "$host_hugetlbfs:/dev/hugepages" "$tag" "${demo[@]}"
	# A hugetlbfs of its own, owned by the image's user: hugepages without root.
	own=$work/hugepages-spdk
	mkdir -p "$own"
	mount -t hugetlbfs -o "uid=$spdk_uid,gid=$spdk_uid,mode=0770" nodev "$own"
	trap 'umount "$own" 2>/dev/null || true; cleanup' EXIT
	check "demo as user spdk, hugepages from a hugetlbfs mounted for uid $spdk_uid, no capabilities" \
		run_in --cap-drop ALL --user spdk -v "$own:/dev/hugepages" "$tag" "${demo[@]}" --hugepages on
	umount "$own"
else
	results+=("skipped demos with hugepages: ${hugepages_free_mb} MB of hugepages free, hugetlbfs ${host_hugetlbfs:-not mounted} (sudo scripts/hugepages.sh 2048)")
fi
check "demo as user spdk, no hugepages (ordinary memory), no capabilities" \
	run_in --cap-drop ALL --user spdk "$tag" "${demo[@]}" --hugepages off

# What Docker does by default, which differs from podman: its capability set, and its seccomp
# profile allows mbind/set_mempolicy/get_mempolicy only with CAP_SYS_NICE (podman's allows them).
podman_seccomp=/usr/share/containers/seccomp.json
if [ -n "$host_hugetlbfs" ] && [ "$hugepages_free_mb" -ge 1024 ] && [ -f "$podman_seccomp" ]; then
	docker_like=$work/seccomp-mempolicy-needs-sys-nice.json
	node -e '
		const profile = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const mempolicy = ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"];
		for (const rule of profile.syscalls) rule.names = rule.names.filter((n) => !mempolicy.includes(n));
		profile.syscalls.push({ names: mempolicy, action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_NICE"] } });
		console.log(JSON.stringify(profile));' "$podman_seccomp" >"$docker_like"
	docker_caps=CHOWN,DAC_OVERRIDE,FSETID,FOWNER,MKNOD,NET_RAW,SETGID,SETUID,SETFCAP,SETPCAP,NET_BIND_SERVICE,SYS_CHROOT,KILL,AUDIT_WRITE
	check "demo as root with hugepages, Docker's default capabilities and mempolicy rule" \
		run_in --cap-drop ALL --cap-add "$docker_caps" --security-opt "seccomp=$docker_like" \
		-v "$host_hugetlbfs:/dev/hugepages" "$tag" "${demo[@]}" --hugepages on
fi

step "results for $tag ($("$podman" image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec))"
printf '    %s\n' "${results[@]}"
[ $failed = 0 ] || die "$failed check(s) failed"
