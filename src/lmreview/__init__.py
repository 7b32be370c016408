"""lmreview: portfolio reviews and evaluations of labour-migration projects."""

__version__ = "0.1.0"
