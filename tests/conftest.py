"""Shared test setup: verify every lifted IR block, a private code cache, and --runslow for long runs."""
import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ["DBT_VERIFY"] = "1"
# Tests never touch the user's code cache: one fresh cache directory per test session.
os.environ["DBT_CACHE_DIR"] = tempfile.mkdtemp(prefix="dbt-test-cache-")
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
