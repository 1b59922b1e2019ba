"""The engine's version: part of every analysis cache key, so a change of analysis re-runs it."""

ENGINE_VERSION = "1.1.0"
