#!/usr/bin/env bash
# Installs Chromium for the live viewer's browser test (packages/cli/test/browser.test.ts, which
# draws `folio serve`'s page headless and checks the canvas), with apt-get, only when missing.
# Does nothing where apt-get is absent or this is not root: the test is then skipped, saying why.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-viewer: chromium is missing; install it (apt-get install -y chromium) to run the viewer's browser test" >&2
  exit 0
fi
echo "setup-viewer: installing chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
