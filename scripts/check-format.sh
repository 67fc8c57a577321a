#!/usr/bin/env bash
# Checks that every tracked C file (*.c, *.h) follows .clang-format: lists the files that
# differ and exits 1. With --fix, formats them in place instead.
#   scripts/check-format.sh          check (CI)
#   scripts/check-format.sh --fix    rewrite the files that differ
# Only clang-format 14 is known to give the committed result: another version may format
# some constructs differently, so the check names the version it ran.
set -uo pipefail
cd "$(dirname "$0")/.."

fix=0
case "${1:-}" in
--fix) fix=1 ;;
"") ;;
*) echo "check-format: '$1': unknown option (usage: scripts/check-format.sh [--fix])" >&2; exit 2 ;;
esac

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
	for c in clang-format-14 clang-format; do
		command -v "$c" >/dev/null 2>&1 && { cf=$c; break; }
	done
fi
if [ -z "$cf" ]; then
	echo "check-format: clang-format not found (apt-get install clang-format)" >&2
	exit 2
fi
ver=$("$cf" --version | sed -n 's/.*version \([0-9][0-9]*\).*/\1/p')
[ "$ver" = 14 ] || echo "check-format: warning: $cf is version ${ver:-?}, the style is tuned for 14" >&2

# tracked files only (not build trees, not fuzz corpora); ones deleted in the work tree skipped
mapfile -t files < <(git ls-files -- '*.c' '*.h' ':!:tests/fuzz/corpus/**' |
	while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done)
if [ ${#files[@]} -eq 0 ]; then
	echo "check-format: no tracked C files (not a git work tree?)" >&2
	exit 2
fi

if [ $fix = 1 ]; then
	"$cf" --style=file -i "${files[@]}" || exit 1
	echo "check-format: formatted ${#files[@]} files with $cf $ver"
	exit 0
fi

bad=()
for f in "${files[@]}"; do
	"$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
	printf '%s\n' "${bad[@]}"
	echo "check-format: ${#bad[@]} of ${#files[@]} files differ from .clang-format ($cf $ver);" \
		"see with '$cf --style=file FILE | diff FILE -', fix with scripts/check-format.sh --fix" >&2
	exit 1
fi
echo "check-format: ${#files[@]} files follow .clang-format"
