"""The web chat's files, shipped as package data (index.html, style.css and the ES modules *.js, app.js the entry); no code.

This file makes web/ the package ``stiqa.web`` (see pyproject.toml), so that
``importlib.resources`` finds the chat in an installed wheel as in a checkout.
"""
