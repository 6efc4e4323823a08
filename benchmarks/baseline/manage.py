#!/usr/bin/env python
"""The baseline project's manage.py (run from benchmarks/baseline/)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baseline_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
