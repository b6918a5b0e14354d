"""One computation per notebook: the dataset and the specification in, everything the notebook
shows out (tables, figures, claim values, the facts its prose needs).
"""
