#!/bin/bash
# Training throughput of sg2im train beside pytorch/train.py on 1 and 2
# processes (gloo), as README "Train at scale" reports it: 64x64, global
# batch 8, a quarter of the release's widths, 8 iterations each; prints the
# median and minimum seconds per iteration over iterations 3..8 and the load
# average around each run.   bench/train_scale.sh [WORK_DIR]
set -e
cd "$(dirname "$0")/.."
W=${1:-${TMPDIR:-/tmp}/sg2im-train-scale}
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$W"; rm -rf "$W/go" "$W/pt1" "$W/pt1t1" "$W/pt2"
go build -o "$W/sg2im" ./cmd/sg2im
[ -d "$W/shards" ] || "$W/sg2im" shards --dataset world --image_size 64 --mask_size 16 --num_examples 128 \
  --draws 2 --seed 1 --out "$W/shards" >/dev/null 2>&1
Q="--embedding_dim 32 --gconv_dim 32 --gconv_hidden_dim 128 --gconv_num_layers 5
   --refinement_network_dims 256,128,64,32,16 --d_obj_arch C4-16-2,C4-32-2,C4-64-2
   --d_img_arch C4-16-2,C4-32-2,C4-64-2 --mask_size 16 --image_size 64,64 --num_iterations 8
   --print_every 1 --seed 1"
echo "start: $(uptime)"
"$W/sg2im" train --dataset world $Q --batch_size 8 --threads 2 --num_val_samples 0 --output_dir "$W/go" >"$W/go.log" 2>&1
echo "go: $(uptime)"
$PY pytorch/train.py --shards "$W/shards" $Q --batch_size 8 --threads 2 --loader_num_workers 1 \
  --output_dir "$W/pt1" >"$W/pt1.log" 2>&1
echo "pt1: $(uptime)"
$PY pytorch/train.py --shards "$W/shards" $Q --batch_size 8 --threads 1 --loader_num_workers 1 \
  --output_dir "$W/pt1t1" >"$W/pt1t1.log" 2>&1
echo "pt1t1: $(uptime)"
# --redirects 1 --tee 1: Debian's torch 1.13 under Python 3.11 cannot parse torchrun's default.
$PY -m torch.distributed.run --redirects 1 --tee 1 --standalone --nproc_per_node 2 pytorch/train.py \
  --shards "$W/shards" $Q --batch_size 4 --threads 1 --loader_num_workers 1 --sync_bn 1 \
  --output_dir "$W/pt2" >"$W/pt2.log" 2>&1
echo "pt2: $(uptime)"
for d in go pt1 pt1t1 pt2; do
  $PY -c "
import json
e = [json.loads(l)['elapsed_s'] for l in open('$W/$d/losses.jsonl')]
dt = sorted(b - a for a, b in zip(e[1:], e[2:]))
print('%-6s median %.2f s/it, min %.2f s/it, %.2f images/s' % ('$d', dt[len(dt) // 2], dt[0], 8 / dt[len(dt) // 2]))"
done
