"""A finished run as a notebook a learner takes home: cells written from the run's own config.json (cells),
checked and saved as .ipynb or a py:percent script (export), and the `export-notebook` command (cli)."""
