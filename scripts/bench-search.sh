#!/usr/bin/env bash
# Search benchmark: bulletin's index (tantivy) against SQLite FTS5 (bm25) and
# PostgreSQL full-text search (tsvector + GIN, ts_rank), on the same generated
# corpus and the same fixed queries, measured in the same run.
#
#   scripts/bench-search.sh [ARGS ...]
#
# ARGS go to the search_bench example (crates/bulletin-search/examples/search_bench/):
#   --stories N   stories generated (default 1000000)
#   --seed S      generator and query seed (default 1)
#   --dir DIR     working directory (default target/bench-search); the generated
#                 store in DIR/store is kept and reused by a run with the same N and seed
#   --queries N   queries (default 200: 60 words, 50 two-word ANDs, 40 phrases,
#                 30 word + country, 20 word sorted newest first)
#   --runs R      timed runs of each query after one warm-up run (default 5)
#   --keep-pg     keep the bench_search schema in PostgreSQL afterwards
# e.g. scripts/bench-search.sh --stories 100000
#
# PostgreSQL: $BULLETIN_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
# where a schema `bench_search` is dropped and recreated (and dropped at the end).
# Pass --postgres '' to skip PostgreSQL. Prints figures; fails only when the
# benchmark itself is broken (bulletin finding nothing where a peer finds many).
# All systems share the machine's cores: quote ratios, not absolute times.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_url=${BULLETIN_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

echo "== machine"
echo "cores: $(nproc)"
echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "memory: $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "kernel: $(uname -sr)"

started=$SECONDS
cargo build --release -q -p bulletin-search --example search_bench
echo "build: $((SECONDS - started)) s"

# The URL goes first: a --postgres among ARGS overrides it.
exec target/release/examples/search_bench --postgres "$pg_url" "$@"
