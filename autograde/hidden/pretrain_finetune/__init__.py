"""Hidden tests of module 03 (pretraining and fine-tuning), one file per notebook: grade cells call `hidden.<probe>(...)` on this package."""

from autograde.hidden import HiddenTest
from course.checks import export_submodules

__all__ = export_submodules(__name__, globals(), kind=HiddenTest)
