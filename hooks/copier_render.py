"""Render this Copier template with Jinja2 alone, the way `copier copy` does.

The cookiecutter entry (cookiecutter.json and the pre/post generation hooks
next to this file) uses it, so both tools generate from the one `template/`
directory and validate answers with the one set of rules in copier.yml.
It needs only Jinja2 and PyYAML, which cookiecutter depends on;
tests/render/test_cookiecutter.py proves its output matches copier's.
"""

import re
import shutil
import subprocess
import time
from pathlib import Path

import yaml
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

REPOSITORY = Path(__file__).resolve().parents[1]


def copier_config(repository: Path = REPOSITORY) -> dict:
    return yaml.safe_load((repository / "copier.yml").read_text())


def questions(config: dict) -> dict[str, dict]:
    return {name: spec for name, spec in config.items() if not name.startswith("_")}


def _regex_search(value: str, pattern: str) -> str | None:
    match = re.search(pattern, value)
    return match.group(0) if match else None


def _to_nice_yaml(value: object, indent: int = 4) -> str:
    return yaml.safe_dump(value, indent=indent, allow_unicode=True, default_flow_style=False)


def jinja_environment(root: Path | None = None) -> SandboxedEnvironment:
    """copier's Jinja settings, with the filters of its default extension
    (jinja2-ansible-filters) that copier.yml and template/ use."""
    loader = FileSystemLoader(root, encoding="utf-8") if root else None
    environment = SandboxedEnvironment(loader=loader, keep_trailing_newline=True)
    environment.filters.update(
        regex_search=_regex_search,
        regex_replace=lambda value, pattern, replacement="": re.sub(pattern, replacement, value),
        strftime=lambda pattern, second=None: time.strftime(pattern, time.localtime(second)),
        to_nice_yaml=_to_nice_yaml,
    )
    return environment


def lookup_tables(config: dict) -> dict:
    """The never-asked `when: false` entries the validators read."""
    return {
        name: spec.get("default")
        for name, spec in questions(config).items()
        if spec.get("when") is False
    }


def computed_tables(config: dict, context: dict, environment: SandboxedEnvironment) -> dict:
    """The never-asked entries whose default is a template, rendered for these
    answers and read as YAML, as copier does (task_spec: tasks/<task>/task.yml)."""
    computed: dict[str, object] = {}
    for name, spec in questions(config).items():
        default = spec.get("default")
        if spec.get("when") is False and isinstance(default, str):
            rendered = environment.from_string(default).render(**context, **computed)
            computed[name] = yaml.safe_load(rendered) if spec.get("type") == "yaml" else rendered
    return computed


def asked(config: dict, answers: dict) -> dict:
    """The answers to the questions copier asks and records, in its order."""
    return {
        name: answers[name]
        for name, spec in questions(config).items()
        if spec.get("when") is not False and name in answers
    }


def validation_errors(config: dict, answers: dict) -> list[str]:
    """copier.yml's validator messages for these answers (empty when valid)."""
    environment = jinja_environment()
    context = {**lookup_tables(config), **answers}
    errors = []
    for name, spec in questions(config).items():
        if "validator" in spec and name in answers:
            message = environment.from_string(spec["validator"]).render(**context).strip()
            if message:
                errors.append(f"{name}: {' '.join(message.split())}")
    return errors


def template_files(root: Path) -> list[Path]:
    """The files copier would render from `root`, relative to it: what a
    commit of the working tree holds (copier renders from a git clone, and
    applies no default exclusions to a `_subdirectory`)."""
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:  # not a git repository: every file, as copier does
        return sorted(path.relative_to(root) for path in root.rglob("*") if path.is_file())
    names = (name for name in listing.stdout.split("\0") if name)
    return sorted(Path(name) for name in names if (root / name).is_file())


def template_version(repository: Path) -> str | None:
    """What copier records as `_commit`: `git describe` of the template."""
    result = subprocess.run(
        ["git", "describe", "--tags", "--always"],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return None  # not a git repository: copier records no version either
    return result.stdout.strip()


def render_project(
    answers: dict, destination: Path, source: str, repository: Path = REPOSITORY
) -> None:
    """Write the project for `answers` into `destination`, as `copier copy`
    from `source` would (the answers file records `source` and the version)."""
    config = copier_config(repository)
    suffix = config["_templates_suffix"]
    root = repository / config["_subdirectory"]
    recorded = {"_src_path": source, **asked(config, answers)}
    if version := template_version(repository):
        recorded["_commit"] = version
    # Paths in {% include %} start at the repository, as in copier.
    environment = jinja_environment(repository)
    context = {**lookup_tables(config), **answers}
    context |= {
        **computed_tables(config, context, environment),
        "_copier_answers": recorded,
        "_copier_conf": {"answers_file": config["_answers_file"], "dst_path": str(destination)},
    }
    for name in template_files(root):
        source_file, relative = root / name, name
        is_template = relative.name.endswith(suffix)
        if is_template:
            relative = relative.with_name(relative.name[: -len(suffix)])
        elif root.joinpath(f"{relative}{suffix}").exists():
            continue  # the templated sibling wins, as in copier
        parts = [environment.from_string(part).render(**context) for part in relative.parts]
        if not all(parts):
            continue  # a name that renders empty is a file this project does not get
        target = destination.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if is_template:
            path_in_repository = (root / name).relative_to(repository).as_posix()
            template = environment.get_template(path_in_repository)
            target.write_bytes(template.render(**context).encode())
        else:
            shutil.copyfile(source_file, target)
        shutil.copymode(source_file, target)
