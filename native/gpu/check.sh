#!/usr/bin/env bash
# The GPU check of mnistzip, for a machine with an NVIDIA GPU, CUDA and JAX's CUDA packages, but no Go
# toolchain and no network. `make gpu-bundle` prepares build/gpu/ (this script, the x86-64 binary
# built with the XLA backend, the MNIST files); carry that folder and run
#
#     build/gpu/check.sh OUT_DIR [TRAIN_MINUTES]
#
# It writes to OUT_DIR: the environment (nvidia-smi, plugin, libraries), the W1–W3 step-time benchmark
# on XLA CUDA next to the pure-Go engine, then the paper-size CapsNet trained for as many epochs as
# fit in TRAIN_MINUTES (default 8) with its test accuracy, images/s, weights and logs, and
# summary.json. Set PJRT_PLUGIN to a plugin file to skip the search.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: check.sh OUT_DIR [TRAIN_MINUTES]}
minutes=${2:-8}
mkdir -p "$out"
bin="$here/mnistzip"
data="$here/data/mnist"
log() { echo "[$(date +%T)] $*" | tee -a "$out/check.log"; }

# 1. The PJRT CUDA plugin: JAX's pip package ships it as xla_cuda_plugin.so (jax_plugins/xla_cuda*).
plugin=${PJRT_PLUGIN:-}
if [ -z "$plugin" ]; then
  for py in python3 python; do
    command -v $py >/dev/null || continue
    for mod in jax_plugins.xla_cuda13 jax_plugins.xla_cuda12; do
      dir=$($py -c "import $mod, os; print(os.path.dirname($mod.__file__))" 2>/dev/null) || continue
      [ -f "$dir/xla_cuda_plugin.so" ] && plugin="$dir/xla_cuda_plugin.so" && break 2
    done
  done
fi
[ -z "$plugin" ] && plugin=$(find / -name 'xla_cuda_plugin.so' -not -path '*/proc/*' 2>/dev/null | head -1)
if [ -z "$plugin" ]; then log "no xla_cuda_plugin.so found (install jax[cuda13] or set PJRT_PLUGIN)"; exit 1; fi
log "PJRT plugin: $plugin"
# The CUDA libraries of the nvidia-* pip packages the plugin was built against.
site=$(dirname "$(dirname "$(dirname "$plugin")")")
libs=$(find "$site/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:-}"
{ nvidia-smi; echo; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; } > "$out/environment.txt" 2>&1
"$bin" version --pjrt-plugin "$plugin" >> "$out/environment.txt" 2>&1 || "$bin" version >> "$out/environment.txt" 2>&1

# 2. Step times: W1–W3 on XLA CUDA next to the pure-Go engine (one table, ratios to the first column).
log "benchmark"
"$bin" bench --backends "xla:$plugin,go" --min-time 5s --no-ops > "$out/bench.txt" 2> "$out/bench.err"
log "benchmark exit $?"; cat "$out/bench.txt" | tee -a "$out/check.log"

# 3. The paper-size CapsNet: measure a step, size the run to the time left, train, evaluate.
train=(train --model capsnet --size paper --pjrt-plugin "$plugin" --batch 128 --lr 1e-3 --lr-schedule cosine --data "$data" --seed 1)
log "timing 30 steps"
t0=$(date +%s.%N)
"${train[@]}" --epochs 1 --max-steps 30 --checkpoint-every 0 -f -o "$out/timing.safetensors" > "$out/timing.log" 2>&1
t1=$(date +%s.%N)
per_step=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 30 }')
epochs=$(awk -v s="$per_step" -v m="$minutes" 'BEGIN { e = int(m * 60 / (s * 429 + 10)); print (e < 1 ? 1 : e) }')
log "about $per_step s per step (compilation included): $epochs epochs fit in $minutes minutes"
"${train[@]}" --epochs "$epochs" --max-time "${minutes}m" -f -o "$out/capsnet-paper.safetensors" > "$out/train.log" 2>&1
log "training exit $?"; tail -5 "$out/train.log" | tee -a "$out/check.log"
"$bin" eval --weights "$out/capsnet-paper.safetensors" --pjrt-plugin "$plugin" --data "$data" --json > "$out/eval.json" 2> "$out/eval.err"
log "eval exit $?"
"$bin" info "$out/capsnet-paper.safetensors" > "$out/weights-info.txt" 2>&1
acc=$(sed -n 's/.*"accuracy": *\([0-9.]*\).*/\1/p' "$out/eval.json" | head -1)
ips=$(sed -n 's/.*images_per_second = \([0-9.e+]*\).*/\1/p' "$out/weights-info.txt" | head -1)
printf '{"plugin": "%s", "epochs": %s, "seconds_per_step_first30": %s, "test_accuracy": %s, "images_per_second": %s}\n' \
  "$plugin" "$epochs" "$per_step" "${acc:-null}" "${ips:-null}" > "$out/summary.json"
log "summary: $(cat "$out/summary.json")"
