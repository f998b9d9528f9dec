"""What every layer shares: errors, settings, the JSON codec and common types."""
