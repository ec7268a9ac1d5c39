"""The command line (development and operations tools; never shipped in the function zip)."""
