"""Training: preparing a corpus, the SGD loop, worker processes."""
