"""Tests of the KOSTAL KSEM & Zaptec integration."""
