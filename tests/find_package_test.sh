#!/usr/bin/env bash
# Installs kactor into a scratch prefix and builds and runs a user project
# that uses find_package(kactor) and kactor::kactor.
set -euo pipefail
build_dir=$1 source_dir=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/find_package_app" -B "$work/app" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/app" >/dev/null
"$work/app/app"
