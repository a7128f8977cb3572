"""Build the generated project's kustomize overlays offline, for the tests:
neither kustomize nor kubectl installs from the package registries.

Only what the template's kustomizations use is applied (`resources`,
`namespace`, and `patches` given by `path` whose maps merge into the
resource of the same kind and name, or `$patch: delete` it); any other
field, or a patch with a list in it (kustomize merges lists by keys this
does not know), raises, so a richer overlay fails the test that builds it
instead of being checked as something it is not.
"""

from pathlib import Path

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "patches"}


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
    for entry in kustomization.get("patches", []):
        if set(entry) != {"path"}:
            raise ValueError(f"{directory}: only patches by path can be built offline")
        resources = patched(resources, yaml.safe_load((directory / entry["path"]).read_text()))
    if "namespace" in kustomization:
        for resource in resources:
            resource["metadata"]["namespace"] = kustomization["namespace"]
    return resources


def patched(resources: list[dict], patch: dict) -> list[dict]:
    """A strategic merge patch of maps only, or a `$patch: delete`."""
    key = (patch["kind"], patch["metadata"]["name"])
    matches = [r for r in resources if (r["kind"], r["metadata"]["name"]) == key]
    if len(matches) != 1:
        raise ValueError(f"patch of {key}: {len(matches)} resources match")
    if patch.get("$patch") == "delete":
        return [r for r in resources if r is not matches[0]]
    merge(matches[0], patch)
    return resources


def merge(target: dict, patch: dict) -> None:
    for name, value in patch.items():
        if isinstance(value, list):
            raise ValueError(f"cannot merge the list {name!r} offline")
        if isinstance(value, dict) and isinstance(target.get(name), dict):
            merge(target[name], value)
        else:
            target[name] = value


if __name__ == "__main__":  # a stand-in for `kubectl kustomize DIR` in tests
    import sys

    print(yaml.safe_dump_all(build(Path(sys.argv[1])), sort_keys=False), end="")
