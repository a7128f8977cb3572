#!/usr/bin/env bash
# Deploy a serving image to one environment; called by .github/workflows/cd.yml.
# Usage: scripts/deploy.sh <staging|production>   (env: IMAGE, KUBECONFIG_DATA)
#
# CONFIGURE ME: this applies the Kubernetes manifests in k8s/ when the
# repository has them: a kustomization per target in k8s/overlays/<target>,
# a namespace named after the target, and a deployment and container named
# model-service. Without k8s/ it deploys nothing and says so; replace the
# body with your own deploy command (a PaaS CLI, Helm, Argo CD, ...).
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
kubectl apply -k "k8s/overlays/${target}"
kubectl -n "$target" set image deployment/model-service "model-service=${IMAGE}"
kubectl -n "$target" rollout status deployment/model-service --timeout=10m
