"""From tokens to feature ids: fastText's hashes, word and character n-grams."""
