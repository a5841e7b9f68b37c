"""Running notebooks and the book: the job bodies, papermill, and the build's warm-kernel
service.
"""
