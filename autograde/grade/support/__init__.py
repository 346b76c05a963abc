"""What the grading steps share, set apart from the steps themselves: the course directory a run
grades into, limits, statuses and results, the grading kernel's launcher, process control and
the sandbox."""
