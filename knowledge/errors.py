"""The one family of errors whose message a writer can act on.

Domain code raises these; only the UI (or a CLI) turns them into what the writer sees.
Anything else that escapes is a bug: it is logged with its traceback and shown as a short
generic message.

Each error carries, besides its English message, a stable ``code`` and the ``params`` that fill
it, so a page in another language can say the same thing in its own words (``studio/ui/i18n.py``
translates by code and falls back to the English message for a code it does not know):

>>> e = NotFound("There is no document with id 7", code="no_document", id=7)
>>> str(e), e.code, e.params
('There is no document with id 7', 'no_document', {'id': 7})
"""


class UserError(Exception):
    """An error caused by input a writer can change; the message says what to do.

    ``code``: a stable name for the reason (``"file_empty"``, ``"prompt_too_long"``); empty when
    only the English message exists. ``params``: the values the message was filled with.
    """

    def __init__(self, message: str = "", *, code: str = "", **params):
        super().__init__(message)
        self.code = code
        self.params = params

    def __reduce__(self):  # survives pickling (the bounded parser sends errors between processes)
        return _rebuild, (type(self), str(self), self.code, self.params)


def _rebuild(cls, message, code, params):
    return cls(message, code=code, **params)


class UnreadableFile(UserError):
    """A file could not be turned into text (corrupt, encrypted, empty, unsupported, too big)."""


class InvalidQuery(UserError):
    """A search request that cannot be answered as given (empty query, bad k, unknown collection)."""


class NotFound(UserError):
    """A document or collection named by the writer does not exist."""
