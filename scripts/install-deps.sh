#!/usr/bin/env bash
# Installs every Debian package kactor's build, tests and benchmarks need.
# Idempotent and non-interactive; safe to run on every CI start.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libcaf-dev librdkafka-dev librocksdb-dev
  libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libcpp-httplib-dev
  prometheus
  maven openjdk-17-jdk-headless openssl
  ccache clang-format
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
