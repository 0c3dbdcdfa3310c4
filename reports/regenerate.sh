#!/bin/sh
# Regenerate every report in reports/ from the shipped scenarios:
#   reports/regenerate.sh
# A run report (kubesim report) per scenarios/*.yaml, except the comparison
# scenarios, whose report is a kubesim compare. The test
# committed_reports_are_up_to_date (tests/report_run.rs) makes the same files
# and fails when any committed one differs.
# KUBESIM=path/to/kubesim uses that binary instead of building a release one
# (any build gives the same files).
set -eu
cd "$(dirname "$0")/.."
if [ -z "${KUBESIM:-}" ]; then
  cargo build --release --locked --quiet
  KUBESIM="${CARGO_TARGET_DIR:-target}/release/kubesim"
fi
kubesim="$KUBESIM"
for f in scenarios/*.yaml; do
  name=$(basename "$f" .yaml)
  rm -rf "reports/$name"
  case "$name" in
    compare-binpacking)
      "$kubesim" compare scenarios/compare-binpacking.yaml --schedulers least-allocated,most-allocated,default --seeds 10 --out reports/compare-binpacking --quiet
      ;;
    *)
      "$kubesim" report "$f" --out "reports/$name" >/dev/null
      ;;
  esac
done
du -sh reports
