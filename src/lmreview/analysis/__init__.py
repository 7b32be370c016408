"""Analysis: read-only figures with their denominators, criteria ratings, and the number audit (issue 5).

Nothing in this package writes to the store."""
