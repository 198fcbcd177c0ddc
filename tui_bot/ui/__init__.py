"""Textual console: app, bridge, messages, screens and widgets (the only package that imports textual)."""
