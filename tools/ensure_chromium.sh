#!/usr/bin/env bash
# The browser test needs a Chromium binary. Debian/Ubuntu: install the distribution's package (as root, or
# through passwordless sudo). Elsewhere, point CHROMIUM at a Chromium or Chrome binary. Never a silent skip:
# if no browser can be found or installed, this fails and says how to fix it.
set -euo pipefail
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
    if [ "$SUDO" != none ]; then
        echo "installing Debian's chromium package for the browser test..."
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
        if [ -x "$CHROMIUM" ]; then
            exit 0
        fi
    fi
fi
echo "ERROR: no Chromium at $CHROMIUM and it could not be installed (needs apt-get as root or passwordless sudo)." >&2
echo "       Install Chromium, then run: make test CHROMIUM=/path/to/chromium" >&2
exit 1
