"""KSEM protocol client: no Home Assistant imports here."""
