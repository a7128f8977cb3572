"""Tools for maintainers: render the template and drive generated projects."""
