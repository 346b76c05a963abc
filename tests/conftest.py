"""Fixtures shared by several test files."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograde import publish


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The student repository, written once by `publish` (which first checks release/ against source/).
    Tests read it; a test that changes files works on a copy."""
    out = tmp_path_factory.mktemp("published") / "student-repo"
    publish.publish(out)
    return out
