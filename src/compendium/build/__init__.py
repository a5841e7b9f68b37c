"""Orchestrating a build: preparing the data, the import graph that decides what re-runs,
and Snakemake.
"""
