"""Coordinator-facing views. Thin: parse input with forms, call the service, pick a template."""
