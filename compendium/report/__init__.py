"""Reporting: prose rendered from values, figures, forest plots, the claims registry and the audit of
the paper, the evidence table of other trials.
"""
