"""Shared test setup: verify every lifted IR block, and the --runslow option for long runs."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ["DBT_VERIFY"] = "1"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="long run: needs --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
