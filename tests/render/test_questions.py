"""Each validator in copier.yml refuses a bad answer with a message that says why."""

import pytest

from devtools.testing.projects import render

BAD_ANSWERS = [
    ({"project_name": "   "}, "must not be empty"),
    ({"project_slug": "Bad Slug"}, "not a valid slug"),
    ({"project_slug": "double--hyphen"}, "not a valid slug"),
    ({"package_name": "my-package"}, "not a valid package name"),
    ({"package_name": "9lives"}, "not a valid package name"),
    ({"package_name": "class"}, "is a Python keyword"),
    ({"package_name": "json"}, "standard library module"),
    ({"package_name": "mlflow"}, "import name of a dependency"),
    ({"author_name": ""}, "must not be empty"),
    ({"author_email": "not-an-email"}, "not an e-mail address"),
    ({"model_name": "-leading-dash"}, "not a valid registered model name"),
    ({"task": "clustering"}, "task"),
    ({"model_family": "deep_net"}, "model_family"),
    ({"python_version": "3.9"}, "python_version"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=[str(a) for a, _ in BAD_ANSWERS])
def test_bad_answer_is_refused_with_a_message(tmp_path, answers, message):
    with pytest.raises(ValueError, match=message) as refused:
        render(tmp_path / "project", **answers)
    assert next(iter(answers)) in str(refused.value)
    assert not (tmp_path / "project" / "pyproject.toml").exists()


def test_derived_defaults(tmp_path):
    project = render(tmp_path / "p", project_name="Fraud Detector 2000", task="regression")
    answers = (project / ".copier-answers.yml").read_text()
    assert "project_slug: fraud-detector-2000" in answers
    assert "package_name: fraud_detector_2000" in answers
    assert "model_name: fraud-detector-2000" in answers
