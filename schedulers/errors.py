"""The one exception type the CLI turns into a single line and a non-zero exit."""


class UserError(Exception):
    """Bad input or a missing resource; ``str(err)`` is the whole message for the user."""
