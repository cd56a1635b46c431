"""Outreach: the pipeline of prospects with its rules (no double contact), templates, and the read models of
the board and the dashboard."""
