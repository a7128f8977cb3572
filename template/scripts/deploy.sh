#!/usr/bin/env bash
# Deploy a serving image to one environment; called by .github/workflows/cd.yml.
# Usage: scripts/deploy.sh <staging|production>   (env: IMAGE, KUBECONFIG_DATA)
#
# Applies k8s/overlays/<target> (namespace <target>, which must exist) with
# the image CD built in place of `model-service-image`, then waits for the
# rollout. Without k8s/ it deploys nothing and says so. To deploy another
# way (a PaaS CLI, Helm, Argo CD, ...), replace the body.
set -euo pipefail
target="${1:?usage: $0 <staging|production>}"
case "$target" in
  staging | production) ;;
  *) echo "unknown target $target: expected staging or production" >&2; exit 2 ;;
esac

if [ ! -d k8s ]; then
  echo "::warning::No k8s/ manifests: ${IMAGE} was built but not deployed to ${target}."
  exit 0
fi

kubeconfig="$(mktemp)"
trap 'rm -f "$kubeconfig"' EXIT
printf '%s' "${KUBECONFIG_DATA:?set the KUBECONFIG secret of the ${target} environment}" >"$kubeconfig"
export KUBECONFIG="$kubeconfig"
: "${IMAGE:?set IMAGE to the image to deploy}"
kubectl kustomize "k8s/overlays/${target}" \
  | sed "s|image: model-service-image\$|image: ${IMAGE}|" \
  | kubectl apply -f -
kubectl -n "$target" rollout status deployment/model-service --timeout=10m
