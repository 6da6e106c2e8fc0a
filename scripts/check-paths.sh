#!/usr/bin/env bash
# Fails when two tracked paths differ only in letter case: on a case-insensitive file system (macOS's
# default) they would be one, and the package would not build there.
set -euo pipefail
cd "$(dirname "$0")/.."
clashes=$(git ls-files | awk '{ print tolower($0) }' | sort | uniq -d)
# Folders count too: Sources/recur and Sources/Recur clash even when their files do not.
folders=$(git ls-files | awk -F/ '{ p = ""; for (i = 1; i < NF; i++) { p = p $i "/"; print p } }' | sort -u | awk '{ print tolower($0) }' | sort | uniq -d)
if [ -n "$clashes$folders" ]; then
    echo "paths that differ only in case:" >&2
    printf '%s\n' $clashes $folders >&2
    exit 1
fi
echo "no two paths differ only in case"
