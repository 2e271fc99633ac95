#!/usr/bin/env bash
# Style check (a ctest): every tracked C++/CUDA source is clang-format clean. Formatting differs
# between clang-format releases, so only the release the tree is formatted with (Debian 12's 14)
# judges it; without it, or outside a git checkout, the check reports as skipped (exit 77).
set -euo pipefail
cd "$(dirname "$0")/.."
want=14
if ! command -v clang-format >/dev/null 2>&1; then
  echo "check_format: skipped: no clang-format (Debian: apt install clang-format)"
  exit 77
fi
have=$(clang-format --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
if [ "$have" != "$want" ]; then
  echo "check_format: skipped: clang-format $have here; the tree is formatted with clang-format $want"
  exit 77
fi
if ! files=$(git ls-files '*.cpp' '*.hpp' '*.cu' '*.cuh' '*.h' 2>/dev/null) || [ -z "$files" ]; then
  echo "check_format: skipped: not a git checkout"
  exit 77
fi
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror $files; then
  echo "check_format: run clang-format -i on the files above"
  exit 1
fi
echo "check_format: $(echo "$files" | wc -l) files clean"
