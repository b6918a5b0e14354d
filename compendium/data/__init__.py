"""Input: reading and validating an export, mapping foreign names and codes, the data dictionary,
endpoint derivation, the analysis dataset on disk, and the analysis specification.
"""
