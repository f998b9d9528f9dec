"""Lineage documents and OpenLineage events for compliance tools."""
