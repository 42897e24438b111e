"""The input rules every command shares: names, numbers, output paths, memory, TOML files."""
