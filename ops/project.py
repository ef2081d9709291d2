"""Where the project is: its name (the config namespace and Pulumi project) and its folder on disk.

The bottom of ``ops``: every engine (plan, stack, local, cloud) and the CLI import these names from here.
"""
from __future__ import annotations

from pathlib import Path

PROJECT = "serverless-containers"
PROJECT_DIR = Path(__file__).resolve().parents[1]
