#!/usr/bin/env bash
# Installs kactor into a scratch prefix and builds and runs a user project
# that uses find_package(kactor) and kactor::kactor. The same project builds
# every C++ example of the README (each ```cpp block with a main) as written,
# and runs those that end by themselves (not the ones waiting for a signal).
set -euo pipefail
build_dir=$1 source_dir=$2 work=$3
rm -rf "$work" && mkdir -p "$work/readme"
awk -v dir="$work/readme" '
  /^```cpp$/ { n++; file = sprintf("%s/readme_example_%d.cpp", dir, n); inside = 1; next }
  /^```$/    { inside = 0; next }
  inside     { print > file }
' "$source_dir/README.md"
for f in "$work"/readme/*.cpp; do
  grep -q "int main" "$f" || rm "$f"
done
count=$(ls "$work"/readme/*.cpp 2>/dev/null | wc -l)
if [[ $count -eq 0 ]]; then
  echo "no C++ example with a main found in README.md" >&2
  exit 1
fi
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/find_package_app" -B "$work/app" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DREADME_EXAMPLES_DIR="$work/readme" >/dev/null
cmake --build "$work/app" >/dev/null
"$work/app/app" | tee "$work/app.log"
grep -q "user app saw 10" "$work/app.log" || { echo "the user app did not see its 10 records" >&2; exit 1; }
for f in "$work"/readme/*.cpp; do
  name=$(basename "$f" .cpp)
  if grep -q "run_until_signal" "$f"; then
    echo "README example $name: builds (waits for a signal, not run)"
  else
    "$work/app/$name" 2>"$work/$name.log" || { cat "$work/$name.log" >&2; echo "README example $name failed" >&2; exit 1; }
    echo "README example $name: builds and exits 0"
  fi
done
