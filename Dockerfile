# spdk-node in a container: SPDK built into libspdk_fat.so, the addon built against it, and a
# runtime image with Node.js, the library, the package and nothing to compile with.
#
#   git submodule update --init --recursive     # the context needs the SPDK sources in ./spdk
#   docker build -t spdk-node .
#   docker run --rm spdk-node                   # spdk-node doctor
#
# Running SPDK in it (hugepages, capabilities, non-root): docs/docker.md.
#
# The images it starts from are build args so that a machine without a registry can build it from
# images made locally (scripts/make-base-image.sh, scripts/verify-image.sh); nothing else differs.
ARG BASE_IMAGE=debian:bookworm-slim
# Node.js >= 20.17 (Debian 12's nodejs is 18): only /usr/local/bin/node and npm are taken from it.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS node

# --- build: SPDK, libspdk_fat.so, the addon, the TypeScript ---------------------------------------
FROM ${BASE_IMAGE} AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
	&& ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
	&& node --version && npm --version

WORKDIR /src
COPY scripts/pkgdep.sh scripts/
RUN scripts/pkgdep.sh && rm -rf /var/lib/apt/lists/*

COPY spdk/ spdk/
RUN if [ ! -x spdk/configure ]; then \
		echo 'error: the spdk submodule is empty in the build context.' >&2; \
		echo 'Run this in the repository first: git submodule update --init --recursive' >&2; \
		exit 1; \
	fi
COPY build.sh ./
COPY scripts/fat/ scripts/fat/
# Extra build.sh options, e.g. --lean, or --target-arch native for this CPU only.
ARG SPDK_BUILD_ARGS=
RUN ./build.sh --prefix /usr/local ${SPDK_BUILD_ARGS}

COPY package.json package-lock.json ./
# Scripts run later, once the sources are here (the install script would build the addon now).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json CMakeLists.txt ./
COPY scripts/ scripts/
COPY native/ native/
COPY src/ src/
RUN npm run compile && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Everything the runtime image needs, laid out as `npm install -g` would, so one COPY takes it.
RUN set -eu; out=/out; pkg=$out/usr/local/lib/node_modules/spdk-node; \
	mkdir -p $out/usr/local/lib $out/usr/local/bin $pkg/build/Release; \
	cp -a /usr/local/lib/libspdk_fat.so* /usr/local/lib/libspdk_fat.json $out/usr/local/lib/; \
	cp -a package.json lib node_modules scripts $pkg/; \
	cp -a build/Release/spdk_node.node $pkg/build/Release/; \
	ln -s ../lib/node_modules/spdk-node/lib/cli.js $out/usr/local/bin/spdk-node; \
	chmod 0755 $pkg/lib/cli.js

# --- runtime -------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime
# What libspdk_fat.so links against (ldd), and libstdc++ for node itself.
RUN apt-get update \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		libaio1 libfuse3-3 libkeyutils1 libnuma1 libssl3 libstdc++6 liburing2 libuuid1 \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
COPY --from=build /out/ /
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
	&& ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
	&& ldconfig \
	&& if ldd /usr/local/lib/libspdk_fat.so | grep 'not found'; then exit 1; fi

# SPDK runs as any user with `hugepages: false`; with hugepages the user needs write access to the
# hugetlbfs mount, and PCI devices need root (docs/docker.md). Root stays the default user so that
# `docker run` with the hugepage mount works as documented; `--user spdk` runs as this one.
ARG SPDK_UID=10001
RUN groupadd --gid ${SPDK_UID} spdk \
	&& useradd --uid ${SPDK_UID} --gid spdk --home-dir /home/spdk --create-home --shell /bin/bash spdk
ENV NODE_PATH=/usr/local/lib/node_modules
WORKDIR /home/spdk
CMD ["spdk-node", "doctor"]
