"""Reusable pieces of pages (one module per piece)."""
