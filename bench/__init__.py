"""The vggablate command line: ``python -m bench COMMAND``."""
