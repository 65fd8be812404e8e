#!/usr/bin/env bash
# CI: the real Asterisk of the integration tier (tests/integration), built once per machine.
#
# Builds Asterisk with ../shared/asterisk/build.sh (beside the checkout) into the machine's
# cache, which survives between CI runs: /var/cache/onecall-asterisk when writable, else
# ~/.cache/onecall-asterisk (or $ONECALL_ASTERISK_CACHE). A stamp records the hash of the
# source tarball and of build.sh; while it matches and the binary is there, nothing is
# built. The tests find the build at <cache>/<version> (or $ONECALL_ASTERISK_PREFIX).
set -euo pipefail
cd "$(dirname "$0")/.."

shared=../shared/asterisk
if [ ! -x "$shared/build.sh" ]; then
    echo "asterisk.sh: $shared/build.sh not found beside the checkout: cannot build the real-Asterisk tier" >&2
    exit 1
fi
version=$(sed -n 's/^version=//p' "$shared/build.sh")

if [ -n "${ONECALL_ASTERISK_CACHE:-}" ]; then
    cache=$ONECALL_ASTERISK_CACHE
elif mkdir -p /var/cache/onecall-asterisk 2>/dev/null && [ -w /var/cache/onecall-asterisk ]; then
    cache=/var/cache/onecall-asterisk
else
    cache=$HOME/.cache/onecall-asterisk
fi
prefix=$cache/$version
stamp=$prefix/.onecall-build-stamp
mkdir -p "$cache"

wanted=$(cat "$shared/build.sh" "$shared"/asterisk-*.tar.gz | sha256sum | cut -d' ' -f1)
if [ -x "$prefix/sbin/asterisk" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    echo "asterisk.sh: Asterisk $version already built in $prefix"
    exit 0
fi

# A different tarball or recipe than the one built: start from an empty prefix.
rm -rf "$prefix"
mkdir -p "$cache/tmp"
log=$cache/build.log
echo "asterisk.sh: building Asterisk $version into $prefix (log: $log, step logs: $cache/tmp/asterisk-build-logs)"
start=$(date +%s)
if ! TMPDIR=$cache/tmp "$shared/build.sh" "$prefix" >"$log" 2>&1; then
    tail -40 "$log" >&2
    exit 1
fi
echo "$wanted" >"$stamp"
echo "asterisk.sh: built in $(( $(date +%s) - start )) s"
