#!/usr/bin/env bash
# Install the Debian packages the end-to-end tests drive as real peers when missing:
# Chromium (the desktop and wallboard pages, through Playwright) and sipp (sip-tester).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)

if [ "${#missing[@]}" -gt 0 ]; then
    echo "ensure-test-tools: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "ensure-test-tools: chromium and sipp are installed"
