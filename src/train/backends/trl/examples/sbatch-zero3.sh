#!/bin/bash
# breakfix trl job on a Slurm cluster: DeepSpeed ZeRO-3 over several nodes, one `accelerate launch` per node.
# The job folder (the breakfix workspace) must be on a filesystem every node sees. In breakfix.yaml:
#
#   training:
#     backend: trl
#     trl:
#       topology: zero3
#       numMachines: 2
#       numProcesses: 16          # total over all nodes (2 x 8 GPUs)
#       # mainProcessIp / mainProcessPort: left out; this script passes the allocation's first node and port 29500
#       model: meta-llama/Llama-3.1-8B-Instruct   # what TRL loads in round 1 (hub id or a path the nodes see)
#       timeoutMs: 43200000       # 12 h; keep #SBATCH --time at or below it
#       launch: >-
#         sbatch --wait --nodes=2 --open-mode=append --output={job_dir}/train.log
#         /shared/breakfix/sbatch-zero3.sh {job_dir} {accelerate_config} {script}
#
# `sbatch --wait` blocks until the job ends and exits with its status, which is what breakfix waits for; the job's
# output is appended to the job folder's train.log, where breakfix reads the progress lines.
#SBATCH --job-name=breakfix-trl
#SBATCH --ntasks-per-node=1
#SBATCH --gres=gpu:8
#SBATCH --cpus-per-task=32
#SBATCH --time=12:00:00
set -euo pipefail
JOB_DIR="$1"
ACCELERATE_CONFIG="$2"
SCRIPT="$3"
GPUS_PER_NODE="${GPUS_PER_NODE:-8}"
VENV="${BREAKFIX_TRL_VENV:-/shared/venvs/breakfix-trl}"   # pip install -r "$JOB_DIR/requirements.txt" once
MAIN_IP="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"
export JOB_DIR ACCELERATE_CONFIG SCRIPT GPUS_PER_NODE VENV MAIN_IP
cd "$JOB_DIR"
# One launcher per node; machine rank and the rendezvous address come from Slurm (they override accelerate.yaml).
srun --kill-on-bad-exit=1 bash -c '
  source "$VENV/bin/activate"
  exec accelerate launch --config_file "$ACCELERATE_CONFIG" \
    --num_machines "$SLURM_NNODES" --num_processes "$((SLURM_NNODES * GPUS_PER_NODE))" \
    --machine_rank "$SLURM_NODEID" --main_process_ip "$MAIN_IP" --main_process_port 29500 \
    "$SCRIPT"
'
