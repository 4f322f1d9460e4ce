"""Data for the book: text corpora, real and synthetic time series, batching, padding and masks.

Everything ships with an installed package or is generated; nothing is downloaded at run time.
"""
