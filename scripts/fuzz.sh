#!/usr/bin/env bash
# The long fuzz campaign: every parser's cargo-fuzz target, one after another,
# each for SECONDS, with libFuzzer's memory and time limits set to catch
# super-linear work (a parse that takes seconds, or a gigabyte, is a finding).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default 600 seconds; every target)
#
# Needs: the nightly toolchain (`rustup toolchain install nightly`) and
# cargo-fuzz (`cargo install cargo-fuzz`; installed here when missing).
#
# Each target starts from its committed corpus (fuzz/corpus/TARGET/, minimised,
# small) and, for the text and WXR readers, the samples in the sibling shared/
# folder (read only, never copied in). New inputs gather in
# fuzz/corpus-work/TARGET/ (ignored by git) and are minimised there with
# `cargo fuzz cmin`, ready for the next campaign; the committed fuzz/corpus/
# stays small (seeds and findings), and the replay tests (`cargo test`,
# stable) run every committed input. A crash or timeout leaves its
# input in fuzz/artifacts/TARGET/: add it to the corpus and fix the cause, so
# it stays a regression test. Each target's closing libFuzzer statistics
# (executions, coverage, peak RSS) are printed at the end, and kept in
# fuzz/corpus-work/stats.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
all=(text_reader wxr_reader html_paragraphs front_matter search_query backup_reader form one_click)
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz
fi

# Limits: inputs up to 256 KB (big enough for the nesting and quadratic cases of
# issue 16 to show), 10 seconds per input (every parser reads 256 KB in
# milliseconds), 2 GiB of RSS (a WXR field of 16 MiB costs some 200 MB to
# sanitise; anything far beyond is a leak or a blow-up).
flags=(-max_len=262144 -timeout=10 -rss_limit_mb=2048 -max_total_time="$seconds" -print_final_stats=1)
# No sanitizer: the code is safe Rust, so the campaign looks for panics and
# super-linear time or memory, and runs several times faster without one.
build=(--sanitizer none --release --debug-assertions)
needs_web() { case "$1" in search_query | form | one_click) return 0 ;; esac; return 1; }

work=fuzz/corpus-work
mkdir -p "$work"
stats="$work/stats.txt"
: >"$stats"

extra_seeds() { # target: read-only seed folders from ../shared
  case "$1" in
    text_reader) [ -d ../shared/corpus ] && echo ../shared/corpus ;;
    wxr_reader) [ -d ../shared/fixtures/wxr ] && echo ../shared/fixtures/wxr ;;
  esac
  return 0
}

for target in "${targets[@]}"; do
  echo "== $target: ${seconds}s"
  mkdir -p "$work/$target" "fuzz/corpus/$target"
  cp -n fuzz/corpus/"$target"/* "$work/$target"/ 2>/dev/null || true
  mapfile -t seeds < <(extra_seeds "$target")
  log="$work/$target.log"
  status=0
  features=()
  if needs_web "$target"; then features=(--features web); fi
  (cd fuzz && cargo +nightly fuzz run "${build[@]}" "${features[@]}" "$target" \
      "../$work/$target" "${seeds[@]/#/../}" -- "${flags[@]}") >"$log" 2>&1 || status=$?
  {
    echo "## $target (exit $status)"
    grep -E '^(stat::|#[0-9]+ *DONE|Done [0-9]+ runs)' "$log" || true
    grep -E '^==[0-9]+== ERROR|^SUMMARY|panicked at|Test unit written to' "$log" || true
  } | tee -a "$stats"
  echo "== $target: minimising the campaign's corpus"
  (cd fuzz && cargo +nightly fuzz cmin "${build[@]}" "${features[@]}" "$target" "../$work/$target" -- -max_len=262144) \
    >"$work/$target.cmin.log" 2>&1 || true
  # The minimised set stays in corpus-work/ (thousands of inputs, tens of MB):
  # fuzz/corpus/ keeps the small seed set and every finding, which CI replays.
  echo "   $(find "$work/$target" -type f | wc -l) inputs kept in $work/$target"
done
echo "== statistics: $stats"
