"""One registry type for every name -> entry table: schedules, LR-free optimizers, recipe kinds, models, tasks.

Each owner keeps its own registry and its own ``register_*`` function (which checks an entry before
adding it); plugins call those. Below every package: it imports nothing but ``errors``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeVar

from errors import UserError

T = TypeVar("T")


class Registry(Mapping[str, T]):
    """Names -> entries in registration order. ``registry[name]`` is the one lookup: an unknown name
    raises ``error`` (a UserError) listing the known ones; ``register`` refuses a name taken."""

    def __init__(self, what: str, entries: Mapping[str, T] | None = None, error: type[UserError] = UserError) -> None:
        self.what, self.error = what, error
        self._entries: dict[str, T] = dict(entries or {})

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise self.error(f"unknown {self.what} {name!r}; known: {', '.join(self._entries)}") from None

    def get(self, name: str, default: T | None = None) -> T | None:  # type: ignore[override]
        return self._entries.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def register(self, name: str, entry: T) -> None:
        if name in self._entries:
            raise UserError(f"{self.what} {name!r} clashes with a {self.what} of that name")
        self._entries[name] = entry

    def __delitem__(self, name: str) -> None:
        """Remove an entry (tests undo what they registered)."""
        del self._entries[name]
