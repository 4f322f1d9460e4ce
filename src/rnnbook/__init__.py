"""rnnbook: the one shared implementation behind the course book on recurrent neural networks.

Rooms:
    rnnbook.utils     seeding and the environment report every notebook starts with
    rnnbook.shapes    shape, dtype and value checks with messages that name the argument
    rnnbook.plotting  the book's figure style and its recurring plots
    rnnbook.scratch   NumPy-only layers as forward/backward pairs (no torch import)
    rnnbook.modules   PyTorch modules written from the equations, compatible with torch.nn
    rnnbook.data      corpora, real and synthetic series, tasks, batching and masks
    rnnbook.models    the task models of chapters 5 and 6 (torch.nn by default)
    rnnbook.training  the one training loop (fit, History) and the metrics the book reports
    rnnbook.decoding  greedy decoding, sampling and beam search over a step function
    rnnbook.checks    the checks behind the exercises
    rnnbook.course    builds an nbgrader course from the chapters' exercises
"""

__version__ = "0.1.0"
