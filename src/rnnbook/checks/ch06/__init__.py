"""The checks behind chapter 6's exercises, one module per part of the chapter.

Import them from their modules: ``rnnbook.checks.ch06.language_models`` (part 1) and
``rnnbook.checks.ch06.applications`` (part 2).
"""
