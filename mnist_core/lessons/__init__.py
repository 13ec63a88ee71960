"""Lessons a teacher hands out: a starting config, controls shown, locked or hidden, and ordered steps with
gates the engine checks from a person's runs (schema, files, locks, gates; built-in lessons in builtin/)."""
