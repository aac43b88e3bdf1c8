"""Everything about the Zaptec cloud: `api/` (no Home Assistant), the rest HA."""
