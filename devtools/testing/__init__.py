"""The tests' library: render the template, drive generated projects, run their
workflows, stacks and manifests offline."""
