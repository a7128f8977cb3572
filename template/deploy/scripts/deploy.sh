#!/usr/bin/env bash
# Deploy a serving image to one environment; called by .github/workflows/cd.yml.
# Usage: deploy/scripts/deploy.sh <staging|production>   (env: IMAGE, KUBECONFIG_DATA)
#
# Applies deploy/k8s/overlays/<target> (namespace <target>, which must exist) with
# the image CD built in place of `model-service-image`, then waits for the
# rollout. Without deploy/k8s/ it deploys nothing and says so. To deploy another
# way (a PaaS CLI, Helm, Argo CD, ...), replace the body.
set -euo pipefail
target="${1:?usage: $0 <staging|production>}"
case "$target" in
  staging | production) ;;
  *) echo "unknown target $target: expected staging or production" >&2; exit 2 ;;
esac

: "${IMAGE:?set IMAGE to the image to deploy}"
if [ ! -d deploy/k8s ]; then
  echo "::warning::No deploy/k8s/ manifests: ${IMAGE} was built but not deployed to ${target}."
  exit 0
fi

kubeconfig="$(mktemp)"
manifests="$(mktemp)"
trap 'rm -f "$kubeconfig" "$manifests"' EXIT
printf '%s' "${KUBECONFIG_DATA:?set the KUBECONFIG secret of the ${target} environment}" >"$kubeconfig"
export KUBECONFIG="$kubeconfig"
if ! kubectl get namespace "$target" >/dev/null; then
  echo "::error::Namespace ${target} does not exist: kubectl create namespace ${target}"
  exit 1
fi
kubectl kustomize "deploy/k8s/overlays/${target}" >"$manifests"
# The image goes where the manifests say `model-service-image`, and only there.
if ! grep -q "image: model-service-image$" "$manifests"; then
  echo "::error::deploy/k8s/overlays/${target} has no 'image: model-service-image' to replace with ${IMAGE}."
  exit 1
fi
sed -i "s|image: model-service-image$|image: ${IMAGE}|" "$manifests"
kubectl apply -f "$manifests"
kubectl -n "$target" rollout status deployment/model-service --timeout=10m
