"""Errors a writer can act on, raised by the studio; the UI shows their message as is."""

from knowledge.errors import UserError


class StudioError(UserError):
    """A request the studio cannot serve as given; the message says what to change."""


class ModelUnavailable(StudioError):
    """A configured model could not be loaded; the message names it and says what to do."""


class Busy(StudioError):
    """Too many generations are running; try again shortly."""
