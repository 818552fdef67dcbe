"""Service layer: the only code that writes to the database.

Each function says what it changes; views and CLI commands call these.
"""
