class ApplicationError(Exception):
    """A business rule refused an action. `message` is shown to the user as it is (Chinese)."""

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """Someone else changed the object first; the caller should reload and look again (HTTP 409)."""


class ForbiddenError(ApplicationError):
    """The user's role, division level or jurisdiction does not allow the action (HTTP 403). An
    ApplicationError still, so a page or a bulk job reports it with the other refusals."""
