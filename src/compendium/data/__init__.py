"""The data package: its schema (the one declaration), reading, validation, writing, slices
and the shipped catalogues.

Nothing here imports a higher stage, and this file imports nothing: importing one module
does not import the others.
"""
