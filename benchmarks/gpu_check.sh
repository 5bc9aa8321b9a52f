#!/usr/bin/env bash
# The GPU check in one command, for a machine with an NVIDIA GPU, CuPy (CUDA 12 or 13), numba, torch and
# pytest already installed, and no network:
#
#     bash benchmarks/gpu_check.sh            # a few minutes; under 8 (each step has a time limit)
#
# 1. installs this checkout without fetching anything (pip install --no-deps --no-build-isolation -e .);
# 2. runs the `gpu`-marked tests (pytest -m gpu);
# 3. runs the GPU bench: our SGEMM against cuBLAS at 1024 and 4096, the LeNet convolutions, and one training
#    step of the seed LeNet and MLP at batch 256 on cupy against numba (tinygrad_edu.bench with GPU settings),
#    with the issue's GPU targets computed from the run's own figures;
# 4. writes one short report, gpu_check.txt, to $OUT if set, else to benchmarks/out/.
# Full logs go next to it only while the script runs (a temporary folder), their tails into the report.
set -u
cd "$(dirname "$0")/.."
REPORT_DIR="${OUT:-benchmarks/out}"
mkdir -p "$REPORT_DIR"
REPORT="$REPORT_DIR/gpu_check.txt"
LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT
PY="${PYTHON:-python}"
TEST_LIMIT="${GPU_CHECK_TEST_SECONDS:-200}"
BENCH_LIMIT="${GPU_CHECK_BENCH_SECONDS:-200}"

{
  echo "tinygrad_edu GPU check, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /'
  else
    echo "gpu: nvidia-smi not found"
  fi
  "$PY" - <<'PYEOF' 2>&1
import importlib
for name in ("cupy", "numba", "torch", "numpy"):
    try:
        module = importlib.import_module(name)
        extra = ""
        if name == "cupy":
            extra = f", CUDA runtime {module.cuda.runtime.runtimeGetVersion()}, {module.cuda.runtime.getDeviceCount()} device(s)"
        print(f"{name} {module.__version__}{extra}")
    except Exception as e:  # report, never stop: the steps below say what fails
        print(f"{name}: not usable ({type(e).__name__}: {e})")
PYEOF
} > "$REPORT"

step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $LOGS/NAME.log, exit status in the report
  local name="$1" limit="$2"
  shift 2
  local start=$SECONDS
  timeout --kill-after=10 "$limit" "$@" > "$LOGS/$name.log" 2>&1
  local rc=$?
  local took=$((SECONDS - start))
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "== $name: STOPPED at its ${limit} s limit" >> "$REPORT"
  else
    echo "== $name: exit $rc in ${took} s" >> "$REPORT"
  fi
  return $rc
}

if ! step install 60 "$PY" -m pip install --no-deps --no-build-isolation --no-index -e .; then
  grep -E '^ *error' "$LOGS/install.log" | tail -n 3 >> "$REPORT"
fi
# the tests and the bench must import this checkout (kernels/ installs as tinygrad_edu.kernels)
"$PY" -c 'import os, sys, tinygrad_edu.kernels as k; sys.exit(os.path.realpath(k.__file__).startswith(os.getcwd() + "/") is False)' \
  && echo "this checkout is the tinygrad_edu that imports: $("$PY" -c 'import tinygrad_edu; print(tinygrad_edu.__file__)')" >> "$REPORT" \
  || echo "WARNING: tinygrad_edu does not import from this checkout: the figures below are not of this code" >> "$REPORT"

step gpu-tests "$TEST_LIMIT" "$PY" -m pytest -q -m gpu -n 0 -p no:cacheprovider -rfE tests
tests_rc=$?
# the summary: failures and errors by name, then pytest's last line
grep -E '^(FAILED|ERROR) ' "$LOGS/gpu-tests.log" | head -n 30 >> "$REPORT"
tail -n 1 "$LOGS/gpu-tests.log" >> "$REPORT"

step gpu-bench "$BENCH_LIMIT" "$PY" -m tinygrad_edu.bench.gpu_check
bench_rc=$?
# the bench's header (machine) and its verdicts; the tables stay in the log
sed -n '1,/^lines:/p' "$LOGS/gpu-bench.log" >> "$REPORT"
sed -n '/^== verdicts/,$p' "$LOGS/gpu-bench.log" >> "$REPORT"
grep -E '^note: .*(GPU|cupy|left out)' "$LOGS/gpu-bench.log" | head -n 10 >> "$REPORT"
if [ $bench_rc -ne 0 ]; then tail -n 15 "$LOGS/gpu-bench.log" >> "$REPORT"; fi

echo "== done in ${SECONDS} s: gpu tests exit ${tests_rc}, gpu bench exit ${bench_rc}" >> "$REPORT"
cat "$REPORT"
[ $tests_rc -eq 0 ] && [ $bench_rc -eq 0 ]
