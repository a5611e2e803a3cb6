"""Narvaro: a public organisation's social media, run as a public record."""

__version__ = "0.1.0"
