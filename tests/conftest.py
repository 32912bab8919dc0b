"""Shared test configuration. Reference data live in ``tests/data`` (see its SOURCES.md)."""
