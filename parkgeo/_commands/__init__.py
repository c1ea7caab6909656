"""Subcommands of the ``parkgeo`` command line, one module each (see :mod:`parkgeo.cli`)."""
