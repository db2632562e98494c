#!/usr/bin/env bash
# One prepared run for a GPU machine: the headline benchmark first, then the CUDA-only tests, then
# the other benchmarks on the GPU, each written to $OUT (or ./device-out) as it finishes, so a run
# cut short still returns what it did. Usage on the device machine, from the repository root:
#   bash benchmarks/device_check.sh
set -u
out=${OUT:-device-out}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
timeout 220 $py benchmarks/fit_overhead.py --device cuda --repeats 3 --k 10 20 --bf16 --end-to-end 2>&1 \
    | grep -v -i warn | tee "$out/fit_overhead.txt"
timeout 200 $py -m pytest -q -p no:cacheprovider -o addopts="--import-mode=importlib" tests/training/test_fit_cuda.py tests/augment/test_augment_cuda.py \
    > "$out/cuda_tests.txt" 2>&1; tail -5 "$out/cuda_tests.txt"
timeout 60 $py benchmarks/stacked_variants.py --device cuda --variants 32 --repeats 1 --k 10 2>&1 | tee "$out/stacked_variants.txt"
timeout 60 $py benchmarks/augment_throughput.py --device cuda 2>&1 | tee "$out/augment_throughput.txt"
