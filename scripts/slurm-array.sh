#!/bin/bash
# Every US county on a Slurm cluster: 8 array tasks, each fits its slice
# (--shard auto reads SLURM_ARRAY_TASK_ID/COUNT), then one dependent job
# merges them.  Submit:  sbatch scripts/slurm-array.sh
#SBATCH --job-name=seird-counties
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=512M
#SBATCH --time=00:10:00
#SBATCH --output=logs/seird-%A_%a.log
set -euo pipefail
DATA=${DATA:-../shared/data/jhu_us}
OUT=${OUT:-reports/us-counties}
seird-fit batch --all --data "$DATA" --end 2020-07-31 --jobs "${SLURM_CPUS_PER_TASK:-2}" \
  --shard auto --out "$OUT/shard-$SLURM_ARRAY_TASK_ID"
# The last task to finish is not known in advance; merge in a job that waits
# for the whole array:  sbatch --dependency=afterany:$SLURM_ARRAY_JOB_ID --wrap \
#   "seird-fit merge $OUT/shard-* --out $OUT/all"
