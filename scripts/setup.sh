#!/usr/bin/env bash
# Everything a fresh machine needs, then the demo: prerequisites, SPDK (./build.sh), hugepages,
# the package and its addon. Run as root:  sudo scripts/setup.sh
# SPDK sources: the `spdk` submodule (fetched here if empty), or SPDK_DIR=/path/to/spdk.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "setup.sh: run as root (it installs packages and SPDK): sudo $0" >&2
	exit 1
fi
if [ -z "${SPDK_DIR:-}" ] && [ ! -f spdk/include/spdk/version.h ]; then
	echo "==> fetching the SPDK submodule"
	git submodule update --init --recursive
fi
scripts/pkgdep.sh
./build.sh ${SPDK_DIR:+--spdk-dir "$SPDK_DIR"}
# Hugepages are optional (SPDK also runs on ordinary memory), so a refusal is not fatal.
scripts/hugepages.sh 2048 || echo "setup.sh: no hugepages; SPDK will use ordinary memory"
npm ci --no-audit --no-fund
npx spdk-node doctor
npx spdk-node demo
