"""Running: the notebook graph and its cache, warm kernels, the site, the environment files.
"""
