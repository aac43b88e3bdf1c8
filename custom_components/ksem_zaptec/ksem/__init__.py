"""Everything about the KOSTAL Smart Energy Meter: `api/` (no Home Assistant), the rest HA."""
