"""Write: the Markdown manuscript from the Jinja templates (render, views), their lint, and the sentences around values.

May import: the base and the utilities; no other stage (it sees Values, never the statistics that made them).
"""
