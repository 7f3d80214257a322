#!/usr/bin/env bash
# The GPU check, for the device machine (an NVIDIA GPU, no package registry): install TVM from .gpu_pack
# (tools/pack_tvm_for_device.sh; name .gpu_pack in `carry`), then a 30-second GPU smoke test, a 2-minute
# `--target llvm,cuda` campaign and the GPU test tier (side by side); 5 minutes at most in all; a summary at the end.
# Its store and logs go to $OUT (or ./gpu_check_out), six files. Usage: bash bench/gpu_check.sh
# GPU_CHECK_SECONDS sets the campaign's time (default 120).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu_check_out}
mkdir -p "$out"
started=$(date +%s)
summary=()
note() { summary+=("$1"); echo "== $1"; }
elapsed() { echo $(($(date +%s) - started)); }

# 1. Install: the tvm package and the apache-tvm-ffi wheel, no dependencies (the image has numpy, ml_dtypes, torch,
#    rich, pytest); tzer itself from this tree (PYTHONPATH), its native coverage left out (--coverage none).
site=/tmp/tzer-site
rm -rf "$site" && mkdir -p "$site"
if ! { tar -C "$site" -xJf .gpu_pack/tvm-rest.tar.xz &&
       xz -dc .gpu_pack/libtvm_compiler.so.xz > "$site/tvm/lib/libtvm_compiler.so" &&
       { python3 -c "import tvm_ffi" 2>/dev/null ||  # an interpreter that has it already (a dry run off the device)
         python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" .gpu_pack/apache_tvm_ffi-*.whl; }; }
then
    echo "gpu_check: cannot install from .gpu_pack (run tools/pack_tvm_for_device.sh and carry .gpu_pack)" >&2
    exit 2
fi
export PYTHONPATH="$site:$PWD" PYTHONUNBUFFERED=1
nvidia-smi -L 2>&1 | tee "$out/smoke.log"
note "installed in $(elapsed) s: $(python3 -c 'import tvm; print("tvm", tvm.__version__)' 2>&1 | tail -1)"

# 2. Smoke (30 s): one program per family on llvm and CUDA, run on the GPU. NVRTC (TVM's default) first; if it
#    cannot compile there, nvcc.
smoke() {
    timeout 60 python3 - <<'PY'
import random, sys, time
from tzer.generate import GENERATORS, draw_test_case
from tzer.runner import Runner
runner = Runner("llvm,cuda")
assert runner.cuda.gpu is not None, "no GPU worker: nvidia-smi found no GPU"
passed = 0
try:
    for generator in ("max_pool", "conv", "poolformer", "gem"):
        start = time.monotonic()
        execution = runner.execute(draw_test_case(random.Random(0), generator, "llvm,cuda"))
        print(f"smoke {generator}: {execution.verdict.name} gpu_ran={execution.gpu_ran} "
              f"{execution.error[:300]!r} {time.monotonic() - start:.1f}s", flush=True)
        passed += execution.verdict.name == "PASS" and execution.gpu_ran
finally:
    runner.close()
sys.exit(0 if passed else 1)
PY
}
if smoke 2>&1 | tee -a "$out/smoke.log"; then
    note "smoke (NVRTC): $(grep -c 'gpu_ran=True' "$out/smoke.log") of 4 programs ran on the GPU"
else
    export TVM_CUDA_COMPILE_MODE=nvcc
    echo "== NVRTC failed: again with TVM_CUDA_COMPILE_MODE=nvcc" | tee -a "$out/smoke.log"
    smoke 2>&1 | tee "$out/smoke-nvcc.log"
    cat "$out/smoke-nvcc.log" >> "$out/smoke.log" && rm "$out/smoke-nvcc.log"
    note "smoke (NVRTC failed; nvcc): $(grep -c 'gpu_ran=True' "$out/smoke.log") of 4 programs ran on the GPU"
fi

# 3 and 4 side by side (5 minutes at most in all; one after the other they took 319 s on the H200): the GPU tier
#    with the GPU worker's crash test, in the background, and a 2-minute campaign on both targets (the CPU-vs-CUDA
#    differential), 8 workers sharing the campaign's GPU worker; the tier has its own.
( timeout 220 python3 -m pytest -q -p no:cacheprovider -rsx \
    tests/gpu "tests/integration/test_cuda_runner.py::test_the_gpu_worker_answers_and_survives_a_crash" \
    > "$out/gpu_tier.log" 2>&1; echo $? > /tmp/gpu_check_tier_status ) &
tier=$!
timeout 200 python3 -m tzer fuzz --target llvm,cuda --time "${GPU_CHECK_SECONDS:-120}" --seed 7 --jobs 8 --coverage none \
    --no-reduce \
    --store "$out/gpu.db" > "$out/campaign.log" 2> "$out/campaign.err"
status=$?
grep -E "stopped|executions|CUDA:|findings:" "$out/campaign.log" | tail -4
[ "$status" = 0 ] || tail -20 "$out/campaign.err"
note "campaign (exit $status): $(grep -E '^executions' "$out/campaign.log" | tail -1)"
note "campaign CUDA: $(grep -E '^CUDA:' "$out/campaign.log" | tail -1)"
python3 -m tzer findings --store "$out/gpu.db" --format json > /tmp/gpu_check_findings.json 2>> "$out/campaign.err"
python3 - /tmp/gpu_check_findings.json <<'PY' | tee "$out/findings.txt"
import json, sys
findings = json.load(open(sys.argv[1]))
print(f"{len(findings)} finding(s)")
for f in findings:
    s = f["signature"]
    print(f"  #{f['id']} {s['symptom']} at {s['stage']} {s['guilty_pass'] or '-'}: {s['detail'][:150]} "
          f"({f['generator']}, count {f['count']})")
PY
note "findings: $(head -1 "$out/findings.txt"); CPU-vs-CUDA mismatches: $(grep -c 'cuda vs llvm' "$out/findings.txt")"

wait "$tier"
status=$(cat /tmp/gpu_check_tier_status)
tail -25 "$out/gpu_tier.log"
note "GPU tier (exit $status): $(tail -1 "$out/gpu_tier.log")"

echo
echo "== summary ($(elapsed) s)"
printf '%s\n' "${summary[@]}"
