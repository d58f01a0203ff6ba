"""Agglo: a virtual industrial cluster platform for technology-based SMEs."""

__version__ = "0.1.0"
