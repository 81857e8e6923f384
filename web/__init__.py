"""The web chat's files, shipped as package data (index.html, app.js, style.css); no code.

This file makes web/ the package ``stiqa.web`` (see pyproject.toml), so that
``importlib.resources`` finds the chat in an installed wheel as in a checkout.
"""
