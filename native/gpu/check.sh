#!/usr/bin/env bash
# The GPU check of mnistzip, for a machine with an NVIDIA GPU, CUDA and JAX's CUDA packages, but no Go
# toolchain and no network. `make gpu-bundle` prepares build/gpu/ (this script, the x86-64 binary
# built with the XLA backend, the MNIST files); carry that folder and run
#
#     build/gpu/check.sh OUT_DIR [SECONDS]
#
# Everything ends within SECONDS (default 510), each stage sized to the time left:
#  1. environment: nvidia-smi, the PJRT plugin found, `mnistzip version`;
#  2. DenseNet small (the first XLA compilation, so also the smoke test: a failure stops the script),
#     a 40-step timing run, then as many epochs as fit in DENSENET_SECONDS (default 90, at most 15
#     epochs), evaluated on the test set;
#  3. the W1–W3 training-step benchmark on XLA CUDA next to the pure-Go engine (`mnistzip bench`);
#  4. the paper-size CapsNet: a 40-step timing run, then as many epochs as fit in the time left, evaluated.
# OUT_DIR gets the logs, the weights, eval-*.json, bench.txt and summary.json.
#
# PJRT_PLUGIN=FILE skips the plugin search. CHECK_BACKEND=go with CHECK_LIMIT=N runs the same script on
# the pure-Go engine with N training and test digits; CHECK_BATCH=B and CHECK_CAPSNET_SIZE=small make
# its steps smaller (how the script is tested without a GPU).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: check.sh OUT_DIR [SECONDS]}
total=${2:-510}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin="$here/mnistzip"
data="$here/data/mnist"
deadline=$(($(date +%s) + total))
left() { echo $((deadline - $(date +%s))); }
log() { echo "[$(date +%T)] $*" | tee -a "$out/check.log"; }
limit=${CHECK_LIMIT:-0}
eval_limit=(); [ "$limit" -gt 0 ] && eval_limit=(--limit "$limit")
summary=()
finish() {
  { echo "{"; local IFS=,; echo "${summary[*]}"; echo "}"; } > "$out/summary.json"
  log "summary: $(tr -d '\n' < "$out/summary.json")"
  exit "${1:-0}"
}

# 1. The backend. JAX's pip package ships the PJRT CUDA plugin as jax_plugins/xla_cuda*/xla_cuda_plugin.so
#    and the CUDA libraries as nvidia-* packages beside it (site-packages/nvidia/*/lib).
if [ -n "${CHECK_BACKEND:-}" ]; then
  bflags=(--backend "$CHECK_BACKEND"); bench_backends="$CHECK_BACKEND,go"; plugin=none
else
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
  [ -z "$plugin" ] && plugin=$(find / -name 'xla_cuda_plugin.so' -not -path '/proc/*' 2>/dev/null | head -1)
  if [ -z "$plugin" ]; then log "no xla_cuda_plugin.so found (install jax[cuda13] or set PJRT_PLUGIN)"; summary+=('"error": "no PJRT CUDA plugin"'); finish 1; fi
  site=$(dirname "$(dirname "$(dirname "$plugin")")")
  libs=$(find "$site/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:-}"
  [ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"
  bflags=(--pjrt-plugin "$plugin"); bench_backends="xla:$plugin,go"
fi
log "backend: ${bflags[*]}"
summary+=("\"plugin\": \"$plugin\"")
{ nvidia-smi; echo; echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"; echo; "$bin" version "${bflags[@]}"; } > "$out/environment.txt" 2>&1

# cuda_data_dir prints a folder holding nvvm/libdevice (XLA's --xla_gpu_cuda_data_dir), for the retry
# after a first compilation that could not find it.
cuda_data_dir() {
  local f
  f=$(find "${site:-/nonexistent}/nvidia" /usr/local/cuda/ -path '*nvvm/libdevice/libdevice*.bc' 2>/dev/null | head -1)
  [ -n "$f" ] && dirname "$(dirname "$(dirname "$f")")"
}

# timing NAME ARGS...: a 40-step run; sets per_step (steady seconds per step, steps 10→40) and compile
# (seconds to step 1: data loading, graph building and XLA compilation).
timing() {
  local name=$1; shift
  timeout 240 "$bin" train "$@" --epochs 1 --max-steps 40 --checkpoint-every 0 -f -o "$out/$name-timing.safetensors" > "$out/$name-timing.log" 2>&1
  local rc=$?
  rm -f "$out/$name-timing.safetensors" "$out/$name-timing.safetensors.ckpt"
  local t1 t10 t40
  t1=$(sed -n 's/^step 1: \([0-9.]*\) s.*/\1/p' "$out/$name-timing.log")
  t10=$(sed -n 's/^step 10: \([0-9.]*\) s.*/\1/p' "$out/$name-timing.log")
  t40=$(sed -n 's/^step 40: \([0-9.]*\) s.*/\1/p' "$out/$name-timing.log")
  if [ $rc -ne 0 ] || [ -z "$t40" ]; then return 1; fi
  per_step=$(awk -v a="$t10" -v b="$t40" 'BEGIN { printf "%.5f", (b - a) / 30 }')
  compile=$t1
}

# train_eval NAME SECONDS MAX_EPOCHS ARGS...: trains for the epochs that fit in SECONDS, evaluates.
train_eval() {
  local name=$1 budget=$2 max_epochs=$3; shift 3
  local n=$(( limit > 0 ? limit : 55000 ))
  local steps epochs
  steps=$(( n / batch ))
  if [ "$budget" -lt 30 ]; then
    log "$name: only ${budget} s left, not trained"; summary+=("\"$name\": \"no time left\""); return
  fi
  # An epoch: its steps plus validation (5,000 digits forward: about 0.4 of a training step's time per
  # batch) and, once, the compilation of the validation graph.
  epochs=$(awk -v s="$per_step" -v c="$compile" -v b="$budget" -v n="$steps" -v m="$max_epochs" -v v="$((5000 / batch))" \
    'BEGIN { e = int((b - 1.5 * c) / (1.1 * s * (n + 0.4 * v))); if (e > m) e = m; print (e < 1 ? 1 : e) }')
  log "$name: $per_step s per step, ${compile} s to the first step: $epochs epochs in ${budget} s"
  timeout $((budget + 90)) "$bin" train "$@" --epochs "$epochs" --max-time "${budget}s" -f -o "$out/$name.safetensors" > "$out/$name-train.log" 2>&1
  log "$name: training exit $?"; grep -E '^(epoch|--max-time|wrote)' "$out/$name-train.log" | tee -a "$out/check.log"
  timeout 120 "$bin" eval --weights "$out/$name.safetensors" "${bflags[@]}" --data "$data" "${eval_limit[@]}" --json > "$out/eval-$name.json" 2> "$out/eval-$name.err"
  log "$name: eval exit $?"
  "$bin" info "$out/$name.safetensors" > "$out/$name-info.txt" 2>&1
  local acc ips spe
  acc=$(sed -n 's/.*"accuracy": *\([0-9.]*\).*/\1/p' "$out/eval-$name.json" | head -1)
  ips=$(sed -n 's/.*images_per_second = \([0-9.e+]*\).*/\1/p' "$out/$name-info.txt" | head -1)
  spe=$(sed -n 's/.*seconds_per_epoch = \([0-9.e+]*\).*/\1/p' "$out/$name-info.txt" | head -1)
  summary+=("\"$name\": {\"epochs\": $epochs, \"seconds_per_step\": $per_step, \"seconds_to_first_step\": $compile, \"seconds_per_epoch\": ${spe:-null}, \"images_per_second\": ${ips:-null}, \"test_accuracy\": ${acc:-null}}")
  log "$name: test accuracy ${acc:-?}, ${ips:-?} images/s over the whole run, ${spe:-?} s for the last epoch"
}

batch=${CHECK_BATCH:-128}
common=(--batch "$batch" --lr-schedule cosine --seed 1 --data "$data" --limit "$limit" "${bflags[@]}")
densenet=(--model densenet --size small --lr 2e-3 "${common[@]}")
capsnet=(--model capsnet --size "${CHECK_CAPSNET_SIZE:-paper}" --lr 1e-3 "${common[@]}")

# 2. DenseNet small; its timing run is the first XLA compilation, retried once with an explicit CUDA
#    data folder when XLA could not find libdevice or ptxas on its own.
log "densenet: timing 40 steps"
if ! timing densenet "${densenet[@]}"; then
  tail -3 "$out/densenet-timing.log" | tee -a "$out/check.log"
  dir=$(cuda_data_dir)
  if [ -z "${XLA_FLAGS:-}" ] && [ -n "$dir" ]; then
    export XLA_FLAGS="--xla_gpu_cuda_data_dir=$dir"
    log "retrying with XLA_FLAGS=$XLA_FLAGS"
    mv "$out/densenet-timing.log" "$out/densenet-timing-first.log"
    timing densenet "${densenet[@]}" || { tail -3 "$out/densenet-timing.log" | tee -a "$out/check.log"; summary+=('"error": "first training run failed"'); finish 1; }
  else
    summary+=('"error": "first training run failed"'); finish 1
  fi
fi
train_eval densenet "${DENSENET_SECONDS:-90}" 15 "${densenet[@]}"

# 3. W1–W3 step times, XLA next to the pure-Go engine (ratios to the first column).
log "benchmark W1-W3"
timeout 150 "$bin" bench --backends "$bench_backends" --min-time 2s --no-ops > "$out/bench.txt" 2> "$out/bench.err"
log "benchmark exit $?"; tee -a "$out/check.log" < "$out/bench.txt"

# 4. The paper-size CapsNet in the time left (keeping 60 s for its evaluation).
log "capsnet-paper: timing 40 steps"
if timing capsnet-paper "${capsnet[@]}"; then
  train_eval capsnet-paper "$(( $(left) - 60 ))" 50 "${capsnet[@]}"
else
  tail -3 "$out/capsnet-paper-timing.log" | tee -a "$out/check.log"; summary+=('"capsnet-paper": "timing run failed"')
fi
finish 0
