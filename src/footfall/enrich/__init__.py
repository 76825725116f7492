"""Enrichers: each turns something the request carried into fields of an Event."""
