"""Student runtime of the LLM-engineering course.

Everything a released notebook imports lives here: notebook set-up
(`course.notebook`), visible checks (`course.checks`), toy data
(`course.data`) and plotting helpers (`course.plots`).
"""

__version__ = "0.1.0"
