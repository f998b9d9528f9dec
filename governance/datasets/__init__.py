"""Source tables: schemas with public domains, encodings built from them, loading, splits."""
