"""Scenarios: one system and the society it runs on, as validated TOML."""

from .load import builtin_names, json_schema, load, parse
from .schema import Scenario

__all__ = ["Scenario", "builtin_names", "json_schema", "load", "parse"]
