#!/usr/bin/env bash
# Installs what the FUSE tests and benchmark (packages/fuse, docs/FUSE.md) run on a mount — fio,
# sqlite3, git, and mount(8) (present on any Debian) — with apt-get, only those that are missing.
# The mount itself needs nothing but /dev/fuse and mount(8): Folio speaks the FUSE protocol
# itself (no libfuse, no fusermount).
set -euo pipefail
. "$(dirname "$0")/apt-ensure.sh"
apt_ensure setup-fuse "the FUSE tests" fio:fio sqlite3:sqlite3 git:git mount:mount
