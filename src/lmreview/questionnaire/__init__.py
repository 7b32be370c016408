"""Questionnaires: forms, respondents, invitations, responses (issue 4)."""
