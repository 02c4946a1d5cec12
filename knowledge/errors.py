"""The one family of errors whose message a writer can act on.

Domain code raises these; only the UI (or a CLI) turns them into what the writer sees.
Anything else that escapes is a bug: it is logged with its traceback and shown as a short
generic message.
"""


class UserError(Exception):
    """An error caused by input a writer can change; the message says what to do."""


class UnreadableFile(UserError):
    """A file could not be turned into text (corrupt, encrypted, empty, unsupported, too big)."""


class InvalidQuery(UserError):
    """A search request that cannot be answered as given (empty query, bad k, unknown collection)."""


class NotFound(UserError):
    """A document or collection named by the writer does not exist."""
