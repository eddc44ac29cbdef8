#!/usr/bin/env bash
# Install every build and test dependency of tern from Debian packages.
# Idempotent: does nothing when everything is present. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # build
  build-essential meson ninja-build pkg-config
  libdpdk-dev dpdk libpcap-dev libyaml-cpp-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format valgrind
  # test peers and tools
  iproute2 iputils-ping arping netcat-openbsd socat curl python3-scapy tcpdump ethtool
  # unmodified servers and clients run on tern under LD_PRELOAD (tests/integration/preload_apps.sh)
  redis-server redis-tools nginx-light wrk
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
# The servers above are test subjects, not services: keep their packages from starting them
# (Debian's policy-rc.d protocol; only when no policy is in place already).
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  policy=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
