"""Execution: compiling programs for a target, loading and running them, and saying at which stage they failed."""
