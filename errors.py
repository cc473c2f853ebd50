"""EpochBench's one user-facing exception: bad input or a missing resource, for every package.

The CLI turns a UserError into a single ``error:`` line and exit status 2, so its message must
say what is wrong and what is allowed.
"""


class UserError(Exception):
    """Bad input or a missing resource; ``str(err)`` is the whole message for the user."""
