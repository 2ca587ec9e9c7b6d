"""Model file formats, read without loading a model and without importing a backend.

Both the model registry (listing, describing) and the backends (planning a load, checking an
adapter) read files through these modules, so neither imports the other for it.
"""
