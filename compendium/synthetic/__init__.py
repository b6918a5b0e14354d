"""The synthetic generator: a producer of data beside the pipeline (the calibrated default cohort,
any-N cohorts from the multi-state model, their known truth). Nothing in the pipeline imports it.
"""
