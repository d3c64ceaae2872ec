"""Configuration errors the way singer-sdk reports them."""

from __future__ import annotations

from singer_sdk.exceptions import ConfigValidationError


def config_error(message: str) -> ConfigValidationError:
    """A config error whose message the CLI prints (singer-sdk logs ``errors``, not the message)."""
    return ConfigValidationError(message, errors=[message])
