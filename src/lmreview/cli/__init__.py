"""The command line: one sub-command group per stage, each command a few lines over a service function."""
