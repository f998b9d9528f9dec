"""The application layer.

The only code that touches the store, the audit log and several domain packages at once.
"""
