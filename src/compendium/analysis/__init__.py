"""The science: network structure, integration strategies, qualitative coding, outcomes and
models. Tidy DataFrames in, tidy DataFrames or numbers out.
"""
