class ApplicationError(Exception):
    """A business rule refused an action. `message` is shown to the user as it is (Chinese)."""

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """Someone else changed the object first; the caller should reload and look again (HTTP 409)."""
