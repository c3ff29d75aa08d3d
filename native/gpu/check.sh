#!/usr/bin/env bash
# The GPU run of mnistzip, for a machine with an NVIDIA GPU, CUDA and JAX's CUDA packages, but no Go
# toolchain and no network. `make gpu-bundle` prepares build/gpu/ (this script, the x86-64 binary
# gzipped, the MNIST files, the shipped paper-size CapsNet to warm-start from); carry that folder and run
#
#     build/gpu/check.sh OUT_DIR [SECONDS]
#
# Everything ends within SECONDS (default 510). Three trainings share the GPU, because one alone leaves
# it idle between its steps (the host starts each step and reads its loss back):
#   capsnet-paper       the paper-size CapsNet from scratch (Adam, cosine from 1e-3, ±2 px shifts)
#   capsnet-paper-warm  a warm restart of the shipped paper CapsNet (cosine from 3e-4)
#   densenet-paper      the DenseNet paper preset (cosine from 2e-3, dropout 0.1, ±2 px shifts)
# Stages:
#  1. environment: nvidia-smi, the PJRT plugin found, `mnistzip version`;
#  2. timing: the three runs together for a few hundred steps (the first XLA compilation, so also the
#     smoke test, retried once with XLA_FLAGS=--xla_gpu_cuda_data_dir if XLA cannot find libdevice);
#     their steady seconds per step, measured while they share the GPU, size each run's epochs;
#  3. the three trainings, together, for the epochs that fit in the time left (each capped);
#  4. each model temperature-scaled on the validation split (reliability diagrams), evaluated on the
#     test set into its manifest;
#  5. if time is left, the paper CapsNet alone for 100 steps: its speed without sharing.
# OUT_DIR gets the logs, the weights, eval-*.json, the diagrams, nvidia-smi's utilization samples
# (dmon.txt) and summary.json.
#
# PJRT_PLUGIN=FILE skips the plugin search. CHECK_BACKEND=go with CHECK_LIMIT=N runs the same script on
# the pure-Go engine with N training and test digits; CHECK_BATCH=B and CHECK_SIZE=small make its steps
# smaller (how the script is tested without a GPU). CAPSNET_INIT=FILE names the weights to warm-start
# from (default: init/capsnet-paper.safetensors beside this script; none there: no warm run).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: check.sh OUT_DIR [SECONDS]}
total=${2:-510}
mkdir -p "$out"
out=$(cd "$out" && pwd)
deadline=$(($(date +%s) + total))
left() { echo $((deadline - $(date +%s))); }
within() { local l; l=$(left); echo $((l > 20 ? l : 20)); }
log() { echo "[$(date +%T)] $*" | tee -a "$out/check.log"; }
summary=()
finish() {
  [ -n "${dmon_pid:-}" ] && kill "$dmon_pid" 2>/dev/null
  { echo "{"; local IFS=,; echo "${summary[*]}"; echo "}"; } > "$out/summary.json"
  log "summary: $(tr -d '\n' < "$out/summary.json")"
  exit "${1:-0}"
}

# The binary travels gzipped (make gpu-bundle); it is unpacked outside OUT_DIR.
bin="$here/mnistzip"
if [ ! -x "$bin" ] && [ -f "$here/mnistzip.gz" ]; then
  bin="$(mktemp -d)/mnistzip"
  gzip -dc "$here/mnistzip.gz" > "$bin" && chmod +x "$bin" || { log "cannot unpack $here/mnistzip.gz"; finish 1; }
fi
data="$here/data/mnist"
limit=${CHECK_LIMIT:-0}
eval_limit=(); [ "$limit" -gt 0 ] && eval_limit=(--limit "$limit")
init=${CAPSNET_INIT:-$here/init/capsnet-paper.safetensors}

# 1. The backend (cuda_env.sh): JAX's PJRT CUDA plugin and the CUDA libraries of its nvidia-* packages.
if [ -n "${CHECK_BACKEND:-}" ]; then
  bflags=(--backend "$CHECK_BACKEND"); plugin=none
else
  # shellcheck source=native/gpu/cuda_env.sh
  source "$here/cuda_env.sh" || { log "no xla_cuda_plugin.so found (install jax[cuda13] or set PJRT_PLUGIN)"; summary+=('"error": "no PJRT CUDA plugin"'); finish 1; }
  # Several processes share the GPU: each allocates as it goes, within 30% of the memory (the plugin
  # would otherwise take 75% at start and leave the next process none).
  export MNISTZIP_XLA_OPTIONS=${MNISTZIP_XLA_OPTIONS:-preallocate=false,memory_fraction=0.3}
  command -v nvidia-smi >/dev/null && { nvidia-smi dmon -s u -d 2 > "$out/dmon.txt" 2>&1 & dmon_pid=$!; }
fi
log "backend: ${bflags[*]} (${MNISTZIP_XLA_OPTIONS:-no client options})"
summary+=("\"plugin\": \"$plugin\"")
{ nvidia-smi; echo; echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"; echo; "$bin" version "${bflags[@]}"; } > "$out/environment.txt" 2>&1

# cuda_data_dir prints a folder holding nvvm/libdevice (XLA's --xla_gpu_cuda_data_dir), for the retry
# after a first compilation that could not find it.
cuda_data_dir() {
  local f
  f=$(find "${site:-/nonexistent}/nvidia" /usr/local/cuda/ -path '*nvvm/libdevice/libdevice*.bc' 2>/dev/null | head -1)
  [ -n "$f" ] && dirname "$(dirname "$(dirname "$f")")"
}

batch=${CHECK_BATCH:-128}
size=${CHECK_SIZE:-paper}
common=(--batch "$batch" --lr-schedule cosine --seed 1 --data "$data" --limit "$limit" "${bflags[@]}")
runs=(capsnet-paper densenet-paper)
declare -A args maxepochs
args[capsnet-paper]="--model capsnet --size $size --lr 1e-3"
maxepochs[capsnet-paper]=${CAPSNET_MAX_EPOCHS:-80}
args[densenet-paper]="--model densenet --size $size --lr 2e-3 --dropout 0.1 --shift 2"
maxepochs[densenet-paper]=${DENSENET_MAX_EPOCHS:-60}
if [ -f "$init" ]; then
  runs+=(capsnet-paper-warm)
  args[capsnet-paper-warm]="--model capsnet --size $size --lr 3e-4 --init $init"
  maxepochs[capsnet-paper-warm]=${WARM_MAX_EPOCHS:-30}
else
  log "no $init: no warm restart"
fi

# timing_all STEPS: every run together for STEPS steps; sets per_step[NAME] (steady seconds per step
# over the last 40% of the steps, when the runs that compile fastest are no longer alone) and
# compile[NAME] (seconds to step 1: data, graph building and XLA compilation). A run that fails is
# dropped from runs (its log tells why); fails only when every run did.
declare -A per_step compile
timing_all() {
  local steps=$1 name pids=() kept=()
  for name in "${runs[@]}"; do
    # shellcheck disable=SC2086
    timeout 150 "$bin" train ${args[$name]} "${common[@]}" --epochs 1 --max-steps "$steps" --checkpoint-every 0 -f \
      -o "$out/$name-timing.safetensors" > "$out/$name-timing.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  local from=$((steps * 6 / 10)) # a step the log prints: every 10th up to 100, every 100th after
  if [ "$from" -gt 100 ]; then from=$((from / 100 * 100)); else from=$((from / 10 * 10)); fi
  for name in "${runs[@]}"; do
    rm -f "$out/$name-timing.safetensors" "$out/$name-timing.safetensors.ckpt"
    local t1 ta tb
    t1=$(sed -n 's/^step 1: \([0-9.]*\) s.*/\1/p' "$out/$name-timing.log")
    ta=$(sed -n "s/^step $from: \\([0-9.]*\\) s.*/\\1/p" "$out/$name-timing.log")
    tb=$(sed -n "s/^step $steps: \\([0-9.]*\\) s.*/\\1/p" "$out/$name-timing.log")
    if [ -z "$tb" ] || [ -z "$ta" ]; then
      log "$name: timing run failed:"; tail -3 "$out/$name-timing.log" | tee -a "$out/check.log"; continue
    fi
    per_step[$name]=$(awk -v a="$ta" -v b="$tb" -v n=$((steps - from)) 'BEGIN { printf "%.5f", (b - a) / n }')
    compile[$name]=$t1
    kept+=("$name")
    log "$name: ${per_step[$name]} s per step sharing the GPU, ${t1} s to the first step"
  done
  [ "${#kept[@]}" -gt 0 ] || return 1
  runs=("${kept[@]}")
}

# 2. Timing, the first XLA compilation. When it fails: once more with an explicit CUDA data folder (XLA
#    could not find libdevice or ptxas on its own), then the from-scratch CapsNet alone without client
#    options (the plugin refused them, or the runs could not share the GPU).
steps=${CHECK_STEPS:-300}
attempt=1
log "timing: ${runs[*]} together, $steps steps each"
until timing_all "$steps"; do
  for name in "${runs[@]}"; do mv "$out/$name-timing.log" "$out/$name-timing-$attempt.log"; done
  dir=$(cuda_data_dir)
  if [ "$attempt" -eq 1 ] && [ -z "${XLA_FLAGS:-}" ] && [ -n "$dir" ] && [ "$plugin" != none ]; then
    export XLA_FLAGS="--xla_gpu_cuda_data_dir=$dir"
    log "retrying with XLA_FLAGS=$XLA_FLAGS"
  elif [ "${#runs[@]}" -gt 1 ] && [ "$plugin" != none ]; then
    runs=(capsnet-paper); unset MNISTZIP_XLA_OPTIONS
    log "retrying capsnet-paper alone, without client options"
  else
    summary+=('"error": "timing runs failed"'); finish 1
  fi
  attempt=$((attempt + 1))
done

# 3. The trainings, together. Keep time for stage 4 (calibration and evaluation: a few forward passes).
reserve=${CHECK_RESERVE:-75}
budget=$(( $(left) - reserve ))
n=$(( limit > 0 ? limit : 55000 ))
pids=()
declare -A epochs
for name in "${runs[@]}"; do
  # An epoch: its steps plus validation (5,000 digits forward, about 0.4 of a training step's time per
  # batch); 15% slack for the sharing varying, and the compilation once more.
  epochs[$name]=$(awk -v s="${per_step[$name]}" -v c="${compile[$name]}" -v b="$budget" -v n=$((n / batch)) \
    -v m="${maxepochs[$name]}" -v v=$((5000 / batch)) \
    'BEGIN { e = int((b - 1.2 * c) / (1.15 * s * (n + 0.4 * v))); if (e > m) e = m; print (e < 1 ? 1 : e) }')
  log "$name: ${epochs[$name]} epochs in ${budget} s"
  # shellcheck disable=SC2086
  timeout $((budget + 60)) "$bin" train ${args[$name]} "${common[@]}" --epochs "${epochs[$name]}" --max-time "${budget}s" \
    --checkpoint-every 0 -f -o "$out/$name.safetensors" > "$out/$name-train.log" 2>&1 &
  pids+=($!)
done
i=0
for name in "${runs[@]}"; do
  wait "${pids[$i]}"; log "$name: training exit $?"; i=$((i + 1))
  grep -E '^(epoch|--max-time|wrote)' "$out/$name-train.log" | tail -4 | tee -a "$out/check.log"
done

rm -f "$out"/*.ckpt # the end-of-epoch checkpoints: a run here is not resumed

# 4. Temperature scaling and test metrics, the three models at once.
# Each step within the time left (at least 20 s): the weights are already written.
post() {
  local name=$1
  [ -f "$out/$name.safetensors" ] || return 1
  timeout "$(within)" "$bin" calibrate --weights "$out/$name.safetensors" --plots "$out/plots-$name" "${bflags[@]}" --data "$data" > "$out/$name-calibrate.log" 2>&1
  if [ "$limit" -eq 0 ]; then
    timeout "$(within)" "$bin" eval --weights "$out/$name.safetensors" --record "${bflags[@]}" --data "$data" > "$out/$name-eval.txt" 2>&1
  fi
  timeout "$(within)" "$bin" eval --weights "$out/$name.safetensors" "${bflags[@]}" --data "$data" "${eval_limit[@]}" --json > "$out/eval-$name.json" 2> "$out/eval-$name.err"
  "$bin" info "$out/$name.safetensors" > "$out/$name-info.txt" 2>&1
}
pids=()
for name in "${runs[@]}"; do post "$name" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
for name in "${runs[@]}"; do
  acc=$(sed -n 's/.*"accuracy": *\([0-9.]*\).*/\1/p' "$out/eval-$name.json" 2>/dev/null | head -1)
  ips=$(sed -n 's/.*images_per_second = \([0-9.e+]*\).*/\1/p' "$out/$name-info.txt" 2>/dev/null | head -1)
  spe=$(sed -n 's/.*seconds_per_epoch = \([0-9.e+]*\).*/\1/p' "$out/$name-info.txt" 2>/dev/null | head -1)
  summary+=("\"$name\": {\"epochs\": ${epochs[$name]}, \"seconds_per_step_shared\": ${per_step[$name]}, \"seconds_to_first_step\": ${compile[$name]}, \"seconds_per_epoch\": ${spe:-null}, \"images_per_second\": ${ips:-null}, \"test_accuracy\": ${acc:-null}}")
  log "$name: test accuracy ${acc:-?}, ${ips:-?} images/s over the whole run (shared), ${spe:-?} s for the last epoch"
done

# 5. The paper CapsNet alone, when there is time: its speed without sharing.
if [ "$(left)" -gt 50 ]; then
  runs=(capsnet-paper-alone)
  args[capsnet-paper-alone]=${args[capsnet-paper]}
  if timing_all 100; then
    summary+=("\"capsnet-paper-alone\": {\"seconds_per_step\": ${per_step[capsnet-paper-alone]}, \"seconds_to_first_step\": ${compile[capsnet-paper-alone]}, \"images_per_second\": $(awk -v s="${per_step[capsnet-paper-alone]}" -v b="$batch" 'BEGIN { printf "%.0f", b / s }')}")
  fi
fi
finish 0
