"""The engine: state columns, random streams, the day loop, checkpoints."""
