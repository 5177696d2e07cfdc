"""Text in fastText's format: reading lines, splitting tokens, scanning a corpus."""
