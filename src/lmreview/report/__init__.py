"""Reports: the review report and the 2-page brief, rendered from what ``analysis/`` returns (issue 5).

This package never queries the store. The narrative sections reviewers write are kept in ``models.py`` and edited
through ``narrative.py``; the renderers receive them with the figures.
"""
