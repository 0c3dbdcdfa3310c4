#!/bin/bash
# scenarios/sweeps/binpacking-size.yaml as a Slurm job array: task K of N runs
# shard K/N (kubesim numbers shards from 1, like --array=1-4). Submit from the
# repository root with kubesim on PATH; SWEEP and OUT override the defaults,
# and arguments go on to kubesim sweep (e.g. --until 30m).
#SBATCH --job-name=kubesim-sweep
#SBATCH --array=1-4
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=02:00:00
#SBATCH --output=kubesim-sweep-%A_%a.log
set -euo pipefail

SWEEP=${SWEEP:-scenarios/sweeps/binpacking-size.yaml}
OUT=${OUT:-out/binpacking-size}
K=${SLURM_ARRAY_TASK_ID:?submit this with sbatch: it is a job array}
N=${SLURM_ARRAY_TASK_COUNT:?submit this with sbatch --array}

exec kubesim sweep "$SWEEP" --shard "$K/$N" \
  --threads "${SLURM_CPUS_PER_TASK:-1}" --out "$OUT/shard-$K" "$@"
