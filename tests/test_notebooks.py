"""Every source notebook runs top to bottom in a real Jupyter kernel with every grade cell passing,
no error anywhere, and nothing written to stderr by a grade cell (nbgrader would score it 0)."""

from __future__ import annotations

import pytest

from autograde import notebooks, settings
from tests.helpers import source_notebooks

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", source_notebooks(), ids=lambda p: p.name)
def test_source_notebook_runs_clean(path, tmp_path):
    import papermill

    settings.tool_path()
    executed = papermill.execute_notebook(
        str(path), str(tmp_path / path.name), kernel_name="python3", progress_bar=False, cwd=str(tmp_path)
    )
    for c in executed.cells:
        outputs = c.get("outputs", [])
        errors = [o for o in outputs if o.get("output_type") == "error"]
        assert not errors, f"{notebooks.grade_id(c)} raised {errors[0]['ename']}: {errors[0]['evalue']}"
        if notebooks.is_grade(c) and c.cell_type == "code":
            stderr = [o for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
            assert not stderr, f"grade cell {notebooks.grade_id(c)} wrote to stderr: {stderr[0]['text'][:200]}"
            stdout = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
            assert stdout.startswith("✓"), f"grade cell {notebooks.grade_id(c)} printed no success line"
