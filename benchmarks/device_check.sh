#!/usr/bin/env bash
# One prepared run for a GPU machine: the CUDA-only tests, then every benchmark on the GPU, each
# written to $OUT (or ./device-out) as it finishes, so a run cut short still returns what it did.
# Usage on the device machine, from the repository root: bash benchmarks/device_check.sh
set -u
out=${OUT:-device-out}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
timeout 240 $py -m pytest -q -p no:cacheprovider -o addopts="" tests/training/test_cuda.py tests/augment/test_cuda.py \
    > "$out/cuda_tests.txt" 2>&1; tail -3 "$out/cuda_tests.txt"
timeout 200 $py benchmarks/fit_overhead.py --device cuda --repeats 3 --end-to-end 2>&1 | grep -v -i warn | tee "$out/fit_overhead.txt"
timeout 120 $py benchmarks/stacked_variants.py --device cuda --variants 64 2>&1 | tee "$out/stacked_variants.txt"
timeout 120 $py benchmarks/augment_throughput.py --device cuda 2>&1 | tee "$out/augment_throughput.txt"
