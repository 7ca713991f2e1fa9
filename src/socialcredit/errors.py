"""Errors meant for people: one line saying what is wrong, where, and what would be valid."""

from __future__ import annotations

SYNTHETIC_ONLY = (
    "socialcredit only builds synthetic populations from aggregate figures "
    "(region sizes, age shares, household sizes); it takes no per-person records"
)


class UserError(Exception):
    """Bad input from the user: a scenario, an option, a request. The CLI exits with status 2."""

    def __init__(self, message: str, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class PersonalDataRefused(UserError):
    """Input that would bring per-person real records into the model."""

    def __init__(self, what: str, where: str | None = None):
        super().__init__(f"{what} refused: {SYNTHETIC_ONLY}", where)
