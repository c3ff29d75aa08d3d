#!/usr/bin/env bash
# The second GPU run, after check.sh (same bundle, same machine kind):
#
#     build/gpu/peers.sh OUT_DIR [WEIGHTS...]
#
#  1. each WEIGHTS file (classifiers trained by check.sh) evaluated on the first 1,000 test digits with
#     --predictions: OUT/NAME-predictions.json is what the GPU predicted for each digit, which tests on
#     machines without a GPU compare with the pure-Go engine and the browser (testdata/gpu/);
#  2. the paper-size CapsNet's training step alone on the GPU: mnistzip (300 steps of `train`, timed
#     over the last 100), then its peers on the same GPU (capsnet_gpu_peers.py: PyTorch eager,
#     torch.compile, JAX jit), one after the other. OUT/speed.json holds the results.
# PJRT_PLUGIN=FILE skips the plugin search; CHECK_SIZE=small times the small CapsNet instead (how the
# script is tried on a CPU plugin).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: peers.sh OUT_DIR [WEIGHTS...]}
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
log() { echo "[$(date +%T)] $*" | tee -a "$out/peers.log"; }

bin="$here/mnistzip"
if [ ! -x "$bin" ] && [ -f "$here/mnistzip.gz" ]; then
  bin="$(mktemp -d)/mnistzip"
  gzip -dc "$here/mnistzip.gz" > "$bin" && chmod +x "$bin" || { log "cannot unpack $here/mnistzip.gz"; exit 1; }
fi
data="$here/data/mnist"
# shellcheck source=native/gpu/cuda_env.sh
source "$here/cuda_env.sh" || { log "no xla_cuda_plugin.so found (install jax[cuda13] or set PJRT_PLUGIN)"; exit 1; }
log "backend: ${bflags[*]}"

# 1. Predictions on the first 1,000 test digits (testdata/t10k-1000-*).
for w in "$@"; do
  name=$(basename "$w" .safetensors)
  timeout 120 "$bin" eval --weights "$w" "${bflags[@]}" --data "$data" --limit 1000 --predictions "$out/$name-predictions.json" --json \
    > "$out/$name-eval-1000.json" 2> "$out/$name-eval-1000.err"
  log "$name: predictions exit $? ($(grep -o '"accuracy": [0-9.]*' "$out/$name-eval-1000.json" | head -1))"
done

# 2. Speed, each alone on the GPU.
results=()
timeout 150 "$bin" train --model capsnet --size "${CHECK_SIZE:-paper}" --batch 128 --lr 1e-3 --lr-schedule cosine --seed 1 --data "$data" "${bflags[@]}" \
  --epochs 1 --max-steps 300 --checkpoint-every 0 -f -o "$out/timing.safetensors" > "$out/mnistzip-timing.log" 2>&1
t1=$(sed -n 's/^step 1: \([0-9.]*\) s.*/\1/p' "$out/mnistzip-timing.log")
ta=$(sed -n 's/^step 200: \([0-9.]*\) s.*/\1/p' "$out/mnistzip-timing.log")
tb=$(sed -n 's/^step 300: \([0-9.]*\) s.*/\1/p' "$out/mnistzip-timing.log")
rm -f "$out/timing.safetensors" "$out/timing.safetensors.ckpt"
if [ -n "$ta" ] && [ -n "$tb" ]; then
  results+=("$(awk -v a="$ta" -v b="$tb" -v f="$t1" 'BEGIN { s = (b - a) / 100; printf "{\"peer\": \"mnistzip (GoMLX, XLA CUDA)\", \"seconds_per_step\": %.6f, \"images_per_second\": %.0f, \"seconds_to_first_step\": %s}", s, 128 / s, f }')")
else
  results+=('{"peer": "mnistzip (GoMLX, XLA CUDA)", "error": "timing run failed"}')
fi
log "${results[-1]}"
py=python3; command -v $py >/dev/null || py=python
for peer in torch jax torch-compile; do
  r=$(timeout 150 $py "$here/capsnet_gpu_peers.py" "$peer" 5 2> "$out/peer-$peer.err" | tail -1)
  [ -n "$r" ] || r="{\"peer\": \"$peer\", \"error\": \"no result (exit or timeout): see peer-$peer.err\"}"
  results+=("$r"); log "$r"
done
{ echo "["; (IFS=,; echo "${results[*]}"); echo "]"; } > "$out/speed.json"
