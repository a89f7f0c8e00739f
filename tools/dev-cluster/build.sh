#!/usr/bin/env bash
# Builds tools/bin/dev-cluster from dev-cluster.c, linked statically against librdkafka 2.12.0's C library with
# lakegate's four fixes to its mock broker, each making it answer as a Kafka broker does: librdkafka-mock-syncgroup.patch
# (a follower whose SyncGroup comes after the leader's gets its assignment instead of INVALID_REQUEST),
# librdkafka-mock-fetch-wake.patch (a Fetch waiting for data is answered when a producer appends, not only at the end
# of its MaxWait, so a caught-up consumer sees new records at once instead of up to MaxWait late),
# librdkafka-mock-leavegroup.patch (LeaveGroup v3/v4, the batch form kafkajs sends, is read and answered as such, so a
# consumer that disconnects cleanly leaves its group at once instead of when its session times out) and
# librdkafka-mock-rejoin.patch (a rebalance's join phase ends once every known member has rejoined, not after the
# session timeout less 1 s). The source is the copy that
# the npm package node-rdkafka bundles (fetched with `npm pack`, checked against a pinned SHA-256): the npm registry is
# reachable wherever lakegate is set up, and Debian's librdkafka (2.0.2) has the unpatched mock.
#
# The library (~75 s on 2 cores) is cached in tools/dev-cluster/.build/ under a key of everything it is built from, so
# it is built once per machine and work tree; dev-cluster itself (~1 s) is rebuilt when its key (the library's key,
# dev-cluster.c, the compile line) differs from the one recorded beside the binary. A no-op when both are current.
# Works from any cwd; needs gcc, make, patch, tar and npm (scripts/setup.sh installs what is missing).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/dev-cluster.c"
# Applied in this order; each is a fix that makes the mock answer as a Kafka broker does.
patch_files=("$here/librdkafka-mock-syncgroup.patch" "$here/librdkafka-mock-fetch-wake.patch" "$here/librdkafka-mock-leavegroup.patch"
  "$here/librdkafka-mock-rejoin.patch")
bin_dir="$(cd "$here/.." && pwd)/bin"
bin="$bin_dir/dev-cluster"
cache="$here/.build"

RDK_NPM_PACKAGE="node-rdkafka@3.6.1"
RDK_NPM_TARBALL="node-rdkafka-3.6.1.tgz"
RDK_NPM_SHA256="148f7e7b65c510314c70762d8f1be052c8fe1fdf03a128e6c78083a729a57a30"
RDK_VERSION="2.12.0"
# Only what the mock needs: no TLS, SASL, compression libraries, HTTP client or syslog (builtin lz4 and regex).
RDK_CONFIGURE=(--no-download --disable-ssl --disable-gssapi --disable-zstd --disable-zlib --disable-curl
  --disable-lz4-ext --disable-regex-ext --disable-syslog)
# The patches' names, as the binary's --version gives them ("a.patch, b.patch, …").
MOCK_NAME=$(printf '%s, ' "${patch_files[@]##*/}")
MOCK_NAME=${MOCK_NAME%, }
CFLAGS_BIN=(-O2 -Wall)
LIBS_BIN=(-lpthread -lm -ldl -lrt)

log() { printf 'dev-cluster build: %s\n' "$*" >&2; }
hash_of() { sha256sum | cut -c1-16; }

lib_key=$(printf '%s\n' "$RDK_NPM_PACKAGE" "$RDK_NPM_SHA256" "${RDK_CONFIGURE[*]}" "$(cat "${patch_files[@]}" | sha256sum)" | hash_of)
lib_dir="$cache/librdkafka-$RDK_VERSION-$lib_key"
bin_key=$(printf '%s\n' "$lib_key" "$(sha256sum <"$src")" "${CFLAGS_BIN[*]}" "${LIBS_BIN[*]}" "$MOCK_NAME" | hash_of)

if [[ -x "$bin" && -f "$bin.key" && "$(cat "$bin.key")" == "$bin_key" ]]; then
  exit 0
fi

for tool in gcc make patch tar npm sha256sum flock; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "$tool not found; scripts/setup.sh installs what this needs (gcc, make, patch: apt-get install -y gcc make patch)"
    exit 1
  fi
done

mkdir -p "$cache" "$bin_dir"
# Test files call this script in parallel: one build at a time; the others find it done when they get the lock.
exec 9>"$cache/.lock"
flock 9
if [[ -x "$bin" && -f "$bin.key" && "$(cat "$bin.key")" == "$bin_key" ]]; then
  exit 0
fi

if [[ ! -f "$lib_dir/done" ]]; then
  t0=$SECONDS
  work="$cache/work.$$"
  rm -rf "$work"
  mkdir -p "$work"
  trap 'rm -rf "$work"' EXIT
  tgz="$cache/$RDK_NPM_TARBALL"
  if [[ ! -f "$tgz" ]] || ! echo "$RDK_NPM_SHA256  $tgz" | sha256sum -c --status; then
    log "fetching librdkafka $RDK_VERSION source ($RDK_NPM_PACKAGE from the npm registry)"
    (cd "$work" && npm pack "$RDK_NPM_PACKAGE" --ignore-scripts --silent >/dev/null)
    mv -f "$work/$RDK_NPM_TARBALL" "$tgz"
  fi
  if ! echo "$RDK_NPM_SHA256  $tgz" | sha256sum -c --status; then
    log "$tgz does not have the expected SHA-256 $RDK_NPM_SHA256"
    rm -f "$tgz"
    exit 1
  fi
  mkdir -p "$work/src"
  tar -xzf "$tgz" -C "$work/src" --strip-components=3 package/deps/librdkafka
  version=$(sed -n 's/^#define RD_KAFKA_VERSION *0x\([0-9a-f]*\).*/\1/p' "$work/src/src/rdkafka.h")
  if [[ "$version" != "020c00ff" ]]; then
    log "$RDK_NPM_PACKAGE bundles librdkafka 0x$version, expected $RDK_VERSION (0x020c00ff)"
    exit 1
  fi
  for patch_file in "${patch_files[@]}"; do
    (cd "$work/src" && patch -p1 --forward --quiet <"$patch_file")
  done
  log "building librdkafka $RDK_VERSION (C library only, static; about a minute or two)"
  if ! (cd "$work/src" && ./configure "${RDK_CONFIGURE[@]}" >"$work/configure.log" 2>&1); then
    tail -n 40 "$work/configure.log" >&2
    log "librdkafka configure failed"
    exit 1
  fi
  if ! make -C "$work/src/src" -j"$(nproc)" librdkafka.a >"$work/make.log" 2>&1; then
    tail -n 40 "$work/make.log" >&2
    log "librdkafka build failed"
    exit 1
  fi
  # Keep only what dev-cluster links with; the build tree (~90 MB) goes. Other keys' builds are stale: remove them.
  rm -rf "$lib_dir"
  mkdir -p "$work/out/include/librdkafka" "$work/out/lib"
  cp "$work/src/src/rdkafka.h" "$work/src/src/rdkafka_mock.h" "$work/out/include/librdkafka/"
  cp "$work/src/src/librdkafka.a" "$work/out/lib/"
  echo "$RDK_NPM_PACKAGE librdkafka $RDK_VERSION + $MOCK_NAME; configure ${RDK_CONFIGURE[*]}" >"$work/out/done"
  find "$cache" -maxdepth 1 -name 'librdkafka-*' -type d -exec rm -rf {} +
  mv "$work/out" "$lib_dir"
  rm -rf "$work"
  trap - EXIT
  log "built librdkafka $RDK_VERSION in $((SECONDS - t0)) s ($lib_dir)"
fi

# Build to a temporary name and rename, so an interrupted build never leaves a binary that looks fresh. The cache's
# include directory comes first, so Debian's librdkafka headers (if installed, e.g. with kcat's) are never used.
gcc "${CFLAGS_BIN[@]}" -DDEV_CLUSTER_MOCK="\"with $MOCK_NAME\"" -I"$lib_dir/include" \
  -o "$bin.tmp.$$" "$src" "$lib_dir/lib/librdkafka.a" "${LIBS_BIN[@]}"
mv -f "$bin.tmp.$$" "$bin"
echo "$bin_key" >"$bin.key"
log "built $bin ($("$bin" --version))"
