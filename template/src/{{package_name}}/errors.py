"""The one exception type for problems a user can fix (bad data, params, paths)."""


class ProjectError(Exception):
    """Raised with a message meant for people; the CLI prints it without a traceback."""
