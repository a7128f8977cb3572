"""Maintainer commands: `make demo`, `make format`, the release workflow's plan."""
