"""nbgrader settings of the course.

The repository root is the nbgrader course directory: `source/` and `release/`
are nbgrader's own folders. Runtime artefacts (gradebook, submissions,
autograded copies, feedback) go to the git-ignored `workspace/`.
`python -m autograde` reads this file too, so nbgrader's own commands and ours
agree on stubs and timeouts.
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "llm-engineering"
c.CourseDirectory.root = here
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = os.path.join("workspace", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("workspace", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("workspace", "feedback")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "workspace", "gradebook.db")

# What a solution region becomes in the student's notebook.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell timeout (seconds) when nbgrader itself executes a notebook.
c.ExecutePreprocessor.timeout = 120
c.Execute.timeout = 120
