"""The deep project of each task, shared by every module of tests/deep that
asks for `deep` (session scope; tests/conftest.py keeps each task's tests on
one xdist worker, so each project is built once)."""

import pytest

from devtools.testing.deep_project import DEEP_CASES, Deep, build_deep_project
from devtools.testing.image import ImageLike, build_like_the_image


@pytest.fixture(scope="session", params=list(DEEP_CASES))
def deep(request, tmp_path_factory) -> Deep:
    task = request.param
    return build_deep_project(tmp_path_factory.mktemp(task), task)


@pytest.fixture(scope="session")
def image(deep: Deep, tmp_path_factory) -> ImageLike:
    """The deep project's serving image, built once for every test that runs
    something in it (a minute each: its own environment and exported model)."""
    return build_like_the_image(deep.path, tmp_path_factory.mktemp(f"image-{deep.task}"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect a check marked `deep_tasks(...)` on the other tasks' projects:
    for what works the same whatever the task, one project (or a classifier
    and a regressor) is proof enough, and each run costs minutes."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("deep_tasks")
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        task = params.get("deep") or params.get("own")  # a deep or own-data project
        skip = marker is not None and task is not None and task not in marker.args
        (dropped if skip else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
