"""Reports of a run folder: tables, plots and a self-contained HTML page, from rows alone (never torch)."""

from vggablate.report.build import build_reports, check_run_dir
from vggablate.report.html import Section

__all__ = ["Section", "build_reports", "check_run_dir"]
