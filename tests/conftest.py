"""Shared test settings: a non-interactive matplotlib backend for every test."""

import matplotlib

matplotlib.use("Agg")
