#!/usr/bin/env bash
# Installs Chromium for the live viewer's browser test (packages/cli/test/browser.test.ts, which
# draws `folio serve`'s page headless and checks the canvas), with apt-get, only when missing.
set -euo pipefail
. "$(dirname "$0")/apt-ensure.sh"
apt_ensure setup-viewer "the viewer's browser test" chromium:chromium
