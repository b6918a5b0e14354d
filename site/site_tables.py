"""Numbered tables from notebook outputs.

MyST-NB can wrap a cell's output in a numbered, labelled *figure* (cell metadata
``mystnb.figure``). A data frame shown by a cell is a table to a reader, so the site marks
those outputs with the class ``nbtable`` and this extension re-types them as an enumerable
node of Sphinx's ``table`` kind: they are then numbered "Table N.M", captioned above, and
reachable with ``{numref}``.
"""

from docutils import nodes
from sphinx.transforms import SphinxTransform


class nbtable(nodes.figure):  # noqa: N801 - docutils names node classes in lower case
    """A notebook output shown as a numbered table."""


class RetypeTables(SphinxTransform):
    default_priority = 400

    def apply(self, **kwargs):
        for figure in list(self.document.findall(nodes.figure)):
            if "nbtable" in figure["classes"]:
                figure.__class__ = nbtable  # same object: labels already point at it
                captions = [c for c in figure.children if isinstance(c, nodes.caption)]
                for caption in captions:  # tables are captioned above
                    figure.remove(caption)
                    figure.insert(0, caption)


def _visit(self, node):
    self.visit_figure(node)


def _depart(self, node):
    self.depart_figure(node)


def setup(app):
    app.add_enumerable_node(nbtable, "table", html=(_visit, _depart))
    app.add_transform(RetypeTables)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
