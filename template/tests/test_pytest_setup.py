"""The test runner's own set-up, as pyproject.toml configures it."""

import pytest


def test_hydras_pytest_plugin_stays_off(pytestconfig: pytest.Config) -> None:
    # DVC installs Hydra; its plugin would load on every run for no test.
    assert not pytestconfig.pluginmanager.has_plugin("hydra_pytest")
