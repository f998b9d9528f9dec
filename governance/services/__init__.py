"""The application layer: the only code that touches the store, the audit log and several domain packages."""
