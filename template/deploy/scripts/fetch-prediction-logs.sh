#!/usr/bin/env bash
# Copy the service's prediction logs into a directory for the monitoring
# job; called by .github/workflows/monitor.yml.
# Usage: deploy/scripts/fetch-prediction-logs.sh <directory>
#
# CONFIGURE ME: the service writes JSON Lines files (see README, "Prediction
# log") to SERVE_PREDICTION_LOG_DIR on its own disk. Ship them somewhere CI
# can read (object storage, a shared volume, your log pipeline) and copy
# them here, for example:
#   aws s3 sync "s3://my-bucket/prediction-logs/" "$destination"
# Sets step output found=true when there is at least one log file.
set -euo pipefail
destination="${1:?usage: $0 <directory>}"
mkdir -p "$destination"

# (your copy command here)

if compgen -G "$destination/predictions-*.jsonl" >/dev/null; then
  found=true
else
  found=false
  echo "::warning::No prediction logs in $destination: configure deploy/scripts/fetch-prediction-logs.sh."
fi
echo "found=$found" >>"${GITHUB_OUTPUT:-/dev/null}"
