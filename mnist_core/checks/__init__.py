"""Checks: budgets and safety for what comes from outside, before it is used. Model files (format, no code,
declared weight sizes, parameters, activations, multiply-adds) and zip archives (entries, sizes, methods)."""
