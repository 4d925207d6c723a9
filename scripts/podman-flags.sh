# Sourced by make-base-image.sh and verify-image.sh; uses their $podman, note and die.
#
# Flags podman needs on this host, found by trying. Its defaults fail in some sandboxes: crun
# refuses a host whose cgroup v2 hierarchy has controllers while v1 is in use ("cgroups in hybrid
# mode not supported"; runc accepts it), and without CAP_SYS_RESOURCE the runtime cannot raise
# RLIMIT_NOFILE and RLIMIT_NPROC to podman's defaults ("setrlimit ... Operation not permitted").
# PODMAN_FLAGS, when set, is used as is.
podman_flags=()
find_podman_flags() { # find_podman_flags IMAGE
	if [ -n "${PODMAN_FLAGS+set}" ]; then
		read -ra podman_flags <<<"$PODMAN_FLAGS"
		return
	fi
	local nofile nproc limits candidate err first_err=
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	# podman lowers its own RLIMIT_NPROC to 32768 before it starts the runtime.
	if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
	[ "$nofile" = unlimited ] && nofile=1048576
	limits="--ulimit nofile=$nofile:$nofile --ulimit nproc=$nproc:$nproc"
	for candidate in "" "$limits" "--runtime runc" "--runtime runc $limits"; do
		case $candidate in *runc*) command -v runc >/dev/null 2>&1 || continue ;; esac
		read -ra podman_flags <<<"$candidate"
		if err=$("$podman" run --rm --network none "${podman_flags[@]}" "$1" true 2>&1); then
			[ -z "$first_err" ] || note "podman's defaults cannot start a container here (${first_err//$'\n'/ }); using: $candidate"
			return
		fi
		first_err=${first_err:-$err}
	done
	die "podman cannot start a container here: $first_err (install runc, or set PODMAN_FLAGS)"
}
