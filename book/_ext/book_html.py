"""A small Sphinx extension with the book's HTML fixes.

Jupyter Book 1 loads sphinx-thebe, whose set-up script is registered twice in this stack (Sphinx 7,
sphinx-thebe 0.3); browsers then report "Identifier 'THEBE_JS_URL' has already been declared".
This extension drops repeated script entries from every page.
"""


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # The same inline script is registered once with filename None and once with "".
        if hasattr(script, "filename"):
            key = (script.filename or "", tuple(sorted(script.attributes.items())))
        else:
            key = (str(script), ())
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
