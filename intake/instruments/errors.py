"""The one domain exception of the instrument engine."""

from __future__ import annotations


class InstrumentError(ValueError):
    """Answers (or a request) the engine refuses: unknown instrument, unknown item, bad value.

    `instrument` and `item` locate the problem so the API can point at `responses.<instrument>.<item>`;
    `allowed` lists the raw values the item accepts (empty when not about a value).
    """

    def __init__(
        self,
        message: str,
        *,
        instrument: str | None = None,
        item: str | None = None,
        allowed: tuple[object, ...] = (),
    ) -> None:
        super().__init__(message)
        self.instrument = instrument
        self.item = item
        self.allowed = allowed

    @property
    def path(self) -> str | None:
        """Dotted location below the request's `responses` object, e.g. "phq9.q9"."""
        if self.instrument is None:
            return None
        if self.item is None:
            return self.instrument
        return f"{self.instrument}.{self.item}"
