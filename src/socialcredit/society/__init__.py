"""Synthetic society: citizens generated from aggregate figures only."""

from .population import generate

__all__ = ["generate"]
