"""Build the generated project's kustomize overlays offline, for the tests:
neither kustomize nor kubectl installs from the package registries.

Only what the template's kustomizations use is applied (`resources`,
`namespace`); any other field raises, so a richer overlay fails the test
that builds it instead of being checked as something it is not.
"""

from pathlib import Path

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace"}


def build(directory: Path) -> list[dict]:
    """The resources `kubectl kustomize directory` would print."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise ValueError(f"{directory}: cannot build {sorted(unknown)} offline")
    resources = []
    for entry in kustomization["resources"]:
        path = directory / entry
        if path.is_dir():
            resources += build(path)
        else:
            resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    if "namespace" in kustomization:
        for resource in resources:
            resource["metadata"]["namespace"] = kustomization["namespace"]
    return resources


if __name__ == "__main__":  # a stand-in for `kubectl kustomize DIR` in tests
    import sys

    print(yaml.safe_dump_all(build(Path(sys.argv[1])), sort_keys=False), end="")
