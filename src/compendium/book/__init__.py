"""Assembling the Jupyter Book: staged pages, the data dictionary, the record of published
values and What changed, the PDF.
"""
