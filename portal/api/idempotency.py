"""The Idempotency-Key header, as documented in the schema."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter

_WORDS = (
    "A unique key (e.g. a UUID) per intended write. A retry with the same key returns the first answer "
    "(header `Idempotent-Replayed: true`) and never writes twice; the same key with a different body is refused "
    "(422); a retry while the first is still running gets 409."
)

IDEMPOTENCY_KEY_REQUIRED = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=True, description=_WORDS,
    pattern=r"^[\x21-\x7e]{1,255}$",
)
IDEMPOTENCY_KEY_OPTIONAL = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False, description=_WORDS,
    pattern=r"^[\x21-\x7e]{1,255}$",
)
