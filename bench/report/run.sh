#!/usr/bin/env bash
# Report benchmark: time and peak memory (RSS) for a 100,000-family region as PDF and as CSV.
#
#   DATABASE_URL=postgres://user:pw@host:port/db bench/report/run.sh [families]
#
# The database must be migrated (`policy-notification migrate`) and hold no region "BR". The
# first run seeds it (bench/report/seed.sql); later runs reuse the data.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?set DATABASE_URL to a migrated database}"
N="${1:-100000}"
cargo build --release --example report_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/report_bench"
if ! psql "$DATABASE_URL" -Atc "SELECT 1 FROM \"tblLocations\" WHERE \"LocationCode\" = 'BR'" | grep -q 1; then
  "$BIN" --database-url "$DATABASE_URL" --seed "$N"
fi
for format in pdf csv json; do
  /usr/bin/time -v "$BIN" --database-url "$DATABASE_URL" --format "$format" \
    --out "/tmp/report_bench.$format" 2> "/tmp/report_bench.$format.time"
  grep -E "Elapsed|Maximum resident" "/tmp/report_bench.$format.time"
done
pdfinfo /tmp/report_bench.pdf 2>/dev/null | grep -E "Pages|File size" || true
