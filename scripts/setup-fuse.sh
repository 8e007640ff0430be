#!/usr/bin/env bash
# Installs what the FUSE tests and benchmark (packages/fuse, docs/FUSE.md) run on a mount — fio,
# sqlite3, git, and mount(8) (present on any Debian) — with apt-get, only those that are missing.
# The mount itself needs nothing but /dev/fuse and mount(8): Folio speaks the FUSE protocol
# itself (no libfuse, no fusermount).
# Does nothing where apt-get is absent or this is not root (the tests then say what is missing).
set -euo pipefail
missing=()
for pair in fio:fio sqlite3:sqlite3 git:git mount:mount; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-fuse: missing ${missing[*]}; install them (apt-get install -y ${missing[*]}) to run the FUSE tests" >&2
  exit 0
fi
echo "setup-fuse: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
