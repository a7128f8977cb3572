"""Read a generated project's Dockerfile, for the tests that check what the
image does without a Docker engine."""

from pathlib import Path


def dockerfile_instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    text = dockerfile.read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def last_instruction(dockerfile: Path, keyword: str) -> str:
    """The arguments of the last `keyword` instruction: the final stage's."""
    values = [args for name, args in dockerfile_instructions(dockerfile) if name == keyword]
    if not values:
        raise ValueError(f"no {keyword} in {dockerfile}")
    return values[-1]
