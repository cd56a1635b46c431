"""The ground floor: configuration, the database and its tables, errors, jobs and pure helpers.

Nothing here imports any other part of the project; everything else may import it.
"""
