"""Reports of a run folder: tables, plots and a self-contained HTML page, from rows alone (never torch)."""

from vggablate.report.build import Reports, build_reports, check_run_dir, write_reports
from vggablate.report.html import Section

__all__ = ["Reports", "Section", "build_reports", "check_run_dir", "write_reports"]
