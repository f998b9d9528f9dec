"""Privacy-aware governance for synthetic tabular data."""
