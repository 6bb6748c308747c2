#!/usr/bin/env bash
# Make sure Debian's chromium is installed; the e2e tests drive it through Playwright
# (`playwright install` cannot download browsers here).
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install_chromium.sh: $CHROMIUM is missing and I am neither root nor able to sudo." >&2
        echo "Install it with: apt-get update && apt-get install -y chromium" >&2
        exit 1
    fi
fi

echo "install_chromium.sh: installing Debian chromium..." >&2
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
