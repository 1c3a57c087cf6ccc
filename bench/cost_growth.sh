#!/bin/bash
# docs/speed.md "Cost growth": the generator's median ms per image over
# chain graphs of 2, 8 and 32 objects ("sky left of grass left of sheep
# ...", the bench vocabulary's objects in turn) at 64, 128 and 256 pixels
# a side (coco64, vg128, x256), with the load average before and after.
#   bench/cost_growth.sh [THREADS [REPS]]
set -e
cd "$(dirname "$0")/.."
T=${1:-2}; R=${2:-5}
W=${TMPDIR:-/tmp}/sg2im-cost-growth
mkdir -p "$W"
go build -o "$W/sg2im" ./cmd/sg2im
words=(sky grass sheep tree ocean person cloud road)
for n in 2 8 32; do
  objs=""; rels=""
  for ((i = 0; i < n; i++)); do
    objs+="${objs:+, }\"${words[i % 8]}\""
    ((i > 0)) && rels+="${rels:+, }[$((i - 1)), \"left of\", $i]"
  done
  echo "{\"objects\": [$objs], \"relationships\": [$rels]}" >"$W/chain$n.json"
done
echo "start: $(uptime)"
printf '%-8s %8s %8s %8s\n' pixels 2 8 32
for c in coco64 vg128 x256; do
  printf '%-8s' "$c"
  for n in 2 8 32; do
    m=$("$W/sg2im" bench --config $c --graphs "$W/chain$n.json" --threads "$T" --reps "$R" --profile=false | tail -1)
    m=${m#median_ms=}; printf ' %8s' "${m%% *}"
  done
  echo
done
echo "end: $(uptime)"
