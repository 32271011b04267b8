"""Rendering: table, JSON and CSV; the row shape of each report; the agenda and ``show``."""
