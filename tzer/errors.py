"""tzer's own exception types, kept apart from TVM's.

A `UserError` is bad input from the user (a flag, a file, a store): the CLI prints its message as one line and exits
non-zero. A `TzerBug` is a defect in tzer itself: it is raised and never swallowed, because reporting tzer's own
mistakes as TVM findings would make every finding suspect.
"""


class UserError(Exception):
    """Bad input; the message is one line that says what is wrong and what to do."""


class ConfigError(UserError):
    """A flag or configuration value is invalid."""


class StoreError(UserError):
    """The report store cannot be opened or read (missing, corrupt, wrong schema, unreachable)."""


class CorpusError(UserError):
    """A corpus file is unreadable or does not hold a valid test case."""


class TzerBug(Exception):
    """tzer did something wrong (e.g. built a program its own generator should never draw)."""
