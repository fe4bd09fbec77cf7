"""Helpers for scripts/loadtest and scripts/bench (load generators, server control, statistics)."""
