"""The task models that chapters 5 to 7 train, one module per task.

Each model is built on ``torch.nn`` layers by default (fast); where a chapter compares it, the
book's own ``rnnbook.modules`` layers are a drop-in choice. Import a model from its module.
"""
