# Sourced by the GPU scripts (check.sh, peers.sh): finds the PJRT CUDA plugin that JAX's pip package
# ships (jax_plugins/xla_cuda*/xla_cuda_plugin.so; PJRT_PLUGIN=FILE skips the search), puts the CUDA
# libraries of its nvidia-* packages (site-packages/nvidia/*/lib) on LD_LIBRARY_PATH and CUDA's tools
# on PATH, and sets plugin, site and bflags (mnistzip's backend flags). Returns 1 when no plugin is found.
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
if [ -n "$plugin" ]; then
  site=$(dirname "$(dirname "$(dirname "$plugin")")")
  libs=$(find "$site/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:-}"
  [ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"
  bflags=(--pjrt-plugin "$plugin")
fi
[ -n "$plugin" ]
