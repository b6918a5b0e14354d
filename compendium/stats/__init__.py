"""Statistical methods: Kaplan-Meier and Cox the R way, competing risks, Firth, imputation, MAIC,
curve reconstruction, rates and durations, multiplicity, residuals, and the specification-driven model tables.
"""
