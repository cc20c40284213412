#!/usr/bin/env bash
# The GPU run of issue 12, on a fresh machine with an NVIDIA GPU and CUDA:
# installs what is missing, runs the GPU tests (pytest -m gpu) and the GPU
# benchmark (benchmarks/run.py --device cuda), and writes the results as files.
#
#   bash benchmarks/gpu.sh [OUTPUT_DIR]      (default: benchmarks/results)
#
# Exits non-zero when a test failed or a contender of the benchmark did not run
# (a FAIL of a target is a measurement, not an error). Writes, into OUTPUT_DIR:
# gpu.json and gpu.md (the benchmark), gpu-tests.log
# and gpu-tests.xml (the tests), gpu-environment.txt (driver, GPU, packages).
# Takes a few minutes: the tests about one, the benchmark (--quick unless
# GPU_BENCH_FULL=1) two to four.
#
# Environment:
#   PYTHON         the interpreter (default python3); PyTorch and CuPy already
#                  installed there are used as they are
#   WHEELS         a folder of wheels, for a machine without a package index:
#                  every install then reads only from it (pip --no-index)
#   MNIST          the MNIST file (default: $SKLEARN_BACKPROP_MNIST, else
#                  ../shared/data/mnist.npz, else .gpu/mnist.npz in the checkout,
#                  a git-ignored folder to carry to a machine without ../shared)
#   GPU_BENCH_FULL 1 for the full benchmark (7 repetitions, 4 seeds)
set -uo pipefail
# Paths given by the caller are relative to the caller's directory.
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
OUTPUT="$(absolute "${1:-$(dirname "$0")/results}")"
[ -n "${MNIST:-}" ] && MNIST="$(absolute "$MNIST")"
[ -n "${WHEELS:-}" ] && WHEELS="$(absolute "$WHEELS")"
cd "$(dirname "$0")/.."
REPO="$PWD"
PYTHON="${PYTHON:-python3}"
mkdir -p "$OUTPUT"
ENV_FILE="$OUTPUT/gpu-environment.txt"

say() { printf '\n==== %s\n' "$*"; }

command -v nvidia-smi >/dev/null || { echo "no nvidia-smi: this script needs an NVIDIA GPU" >&2; exit 2; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$ENV_FILE"
cuda_major="$(nvidia-smi | sed -n 's/.*CUDA Version: \([0-9]*\).*/\1/p' | head -1)"

pip_install() {
    if [ -n "${WHEELS:-}" ]; then
        "$PYTHON" -m pip install --quiet --no-index --find-links "$WHEELS" "$@"
    else
        "$PYTHON" -m pip install --quiet "$@"
    fi
}

have() {  # have MODULE [MIN_VERSION]: importable, at that version or newer
    "$PYTHON" - "$@" <<'EOF'
import importlib, sys
try:
    module = importlib.import_module(sys.argv[1])
except Exception:
    sys.exit(1)
if len(sys.argv) > 2:
    def numbers(version):
        return tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    sys.exit(numbers(module.__version__) < numbers(sys.argv[2]))
EOF
}

say "installing what is missing"
# scikit-learn dispatches to the array API from 1.9 on, with SciPy 1.14.
have sklearn 1.9 || pip_install "scikit-learn>=1.9"
have scipy 1.14 || pip_install "scipy>=1.14"
have pytest || pip_install pytest
cuda_torch() { "$PYTHON" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())' 2>/dev/null; }
cuda_torch || pip_install torch  # Linux wheels of PyTorch are CUDA builds
cuda_torch || {
    echo "PyTorch sees no CUDA device: a CPU build is installed, or the driver is" \
        "missing. Install a CUDA build (https://pytorch.org/get-started/locally/)." >&2
    exit 2
}
have cupy || pip_install "cupy-cuda${cuda_major:-12}x"
"$PYTHON" -m pip list --format=freeze 2>/dev/null \
    | grep -iE '^(numpy|scipy|scikit-learn|torch|cupy[a-z0-9-]*|array-api-compat|pytest)=' >>"$ENV_FILE"
cat "$ENV_FILE"

# The package from this checkout, uninstalled: it is pure Python.
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
export SCIPY_ARRAY_API=1
mnist="${MNIST:-${SKLEARN_BACKPROP_MNIST:-}}"
if [ -z "$mnist" ]; then  # relative to the checkout
    for candidate in ../shared/data/mnist.npz .gpu/mnist.npz; do
        [ -f "$candidate" ] && mnist="$candidate" && break
    done
fi
test -f "$mnist" || { echo "no MNIST: set MNIST=path/to/mnist.npz" >&2; exit 2; }
SKLEARN_BACKPROP_MNIST="$(cd "$(dirname "$mnist")" && pwd)/$(basename "$mnist")"
export SKLEARN_BACKPROP_MNIST

say "GPU tests (pytest -m gpu)"
"$PYTHON" -m pytest -m gpu -p no:cacheprovider -q tests \
    --junitxml="$OUTPUT/gpu-tests.xml" 2>&1 | tee "$OUTPUT/gpu-tests.log"
tests_status=${PIPESTATUS[0]}

say "GPU benchmark"
quick="--quick"
[ "${GPU_BENCH_FULL:-0}" = 1 ] && quick=""
PYTHONUNBUFFERED=1 "$PYTHON" benchmarks/run.py --device cuda $quick --output "$OUTPUT"
bench_status=$?

say "wrote $OUTPUT: gpu.json gpu.md gpu-tests.log gpu-tests.xml gpu-environment.txt"
[ "$tests_status" -eq 0 ] && [ "$bench_status" -eq 0 ]
