#!/usr/bin/env bash
# Installs the Debian packages memkit needs to build, test and format. Idempotent: installs only
# what is missing, and runs apt-get only if something is.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
  libmimalloc-dev libjemalloc-dev  # peers in bench/alloc, loaded with dlopen
  libdw-dev dwarves procps  # memkit layout reads DWARF with libdw; tests compare with pahole, pmap
  libgc-dev  # Boehm GC, the peer in bench/gc
  valgrind python3 ruby  # memkit check is tested against valgrind, on real programs too
  heaptrack clang libclang-rt-14-dev  # memkit check's peers in bench/leakcheck
  clang-format git
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: not root and no sudo; install them with:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

# Wait for another apt/dpkg process rather than fail on its lock.
apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${sudo[@]}" apt-get "${apt_opts[@]}" update &&
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
    --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup: failed to install: ${missing[*]}" >&2
  exit 1
fi
echo "setup: installed ${missing[*]}"
