"""Thin views: load, check, validate, call one service, answer."""
