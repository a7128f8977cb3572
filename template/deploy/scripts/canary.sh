#!/usr/bin/env bash
# Canary releases on Argo Rollouts (README "Canary releases"), in namespace
# production. Usage: deploy/scripts/canary.sh <start|promote|abort>
#   (env: IMAGE for start; KUBECONFIG_DATA)
#
# start: applies deploy/k8s/overlays/canary with the image CD built in place
# of `model-service-image`: the image becomes a canary, which the analysis
# aborts automatically when its error rate or latency is bad; waits until it
# is promoted (exit 0) or aborted (exit 1). promote: skips the canary's
# remaining steps; abort: sends all traffic back to the stable pods.
set -euo pipefail
action="${1:?usage: $0 <start|promote|abort>}"
case "$action" in
  start | promote | abort) ;;
  *) echo "unknown action $action: expected start, promote or abort" >&2; exit 2 ;;
esac
target=canary
namespace=production
if [ ! -d deploy/k8s ]; then
  echo "::warning::No deploy/k8s/ manifests: ${IMAGE:-the image} was built but not deployed to ${target}."
  exit 0
fi

kubeconfig="$(mktemp)"
manifests="$(mktemp)"
trap 'rm -f "$kubeconfig" "$manifests"' EXIT
printf '%s' "${KUBECONFIG_DATA:?set the KUBECONFIG secret of the ${namespace} environment}" >"$kubeconfig"
export KUBECONFIG="$kubeconfig"
if ! kubectl get namespace "$namespace" >/dev/null; then
  echo "::error::Namespace ${namespace} does not exist: kubectl create namespace ${namespace}"
  exit 1
fi

apply_overlay() {
  : "${IMAGE:?set IMAGE to the image to deploy}"
  kubectl kustomize "deploy/k8s/overlays/${target}" >"$manifests"
  # The image goes where the manifests say `model-service-image`, and only there.
  if ! grep -q "image: model-service-image$" "$manifests"; then
    echo "::error::deploy/k8s/overlays/${target} has no 'image: model-service-image' to replace with ${IMAGE}."
    exit 1
  fi
  sed -i "s|image: model-service-image$|image: ${IMAGE}|" "$manifests"
  kubectl apply -f "$manifests"
}

rollout() {
  kubectl -n "$namespace" get rollout model-service -o "jsonpath={$1}"
}

# Until the canary is fully promoted (Healthy) or aborted (Degraded).
wait_for_the_canary() {
  local deadline=$((SECONDS + ${CANARY_TIMEOUT_SECONDS:-3600})) phase
  while :; do
    phase="$(rollout .status.phase)"
    case "$phase" in
      Healthy) break ;;
      Degraded)
        echo "::error::The canary was aborted: $(rollout .status.message)"
        exit 1
        ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "::error::The canary is still ${phase:-starting}; see kubectl -n ${namespace} get rollout model-service"
      exit 1
    fi
    sleep "${CANARY_POLL_SECONDS:-20}"
  done
  # The canary is the champion now: batch scoring takes its image too.
  local image
  image="$(kubectl -n "$namespace" get deployment model-service -o 'jsonpath={.spec.template.spec.containers[0].image}')"
  kubectl -n "$namespace" set image cronjob/batch-scoring "batch-scoring=${image}"
  echo "The canary is promoted: ${image} serves all traffic and scores the batches."
}

case "$action" in
  start)
    apply_overlay
    wait_for_the_canary
    ;;
  promote)
    kubectl -n "$namespace" patch rollout model-service --subresource=status --type=merge \
      -p '{"status":{"promoteFull":true}}'
    wait_for_the_canary
    ;;
  abort)
    kubectl -n "$namespace" patch rollout model-service --subresource=status --type=merge \
      -p '{"status":{"abort":true}}'
    echo "The canary is aborted: the stable pods serve all traffic."
    ;;
esac
