"""Tests of the evaluation tools (evals/)."""
