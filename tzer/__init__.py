"""tzer: a coverage-guided fuzzer for Apache TVM's tensor compiler."""

__version__ = "0.1.0"
