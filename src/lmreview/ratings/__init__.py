"""Criteria ratings: scales, sources with their weights, and the scores reviewers give (issue 5).

The ratings are data reviewers enter, so they live in their own stage package; ``analysis/ratings.py`` reads them
and computes the triangulated scores without writing.
"""
