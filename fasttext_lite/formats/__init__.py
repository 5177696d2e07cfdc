"""Files: the checked container format and the ftl model file (later fastText's `.bin`)."""
